/**
 * Loaded into every Node process in a sandbox (`NODE_OPTIONS=--import=<this file>`). Before
 * Node 24, `fetch` ignores `HTTP_PROXY`, so a Node tool server in a sandbox, whose only way out
 * is the proxy, would have no network at all. Node's own `fetch` takes its dispatcher from the
 * global that undici's `setGlobalDispatcher` sets, so a dispatcher there sends it through the
 * proxy: `http://` requests in absolute form, as Warden's egress proxy takes them (it refuses
 * CONNECT tunnels: docs/sandbox.md), the hosts `NO_PROXY` names (loopback) straight. Node's `http`
 * module is not affected: clients built on it read the proxy variables themselves.
 */
import { Agent, Dispatcher, ProxyAgent, setGlobalDispatcher } from 'undici';

/** The hosts of `NO_PROXY`: each a host name or address, or a domain (`.example.com`, `example.com`) with what is below it. */
const NO_PROXY = (process.env.NO_PROXY ?? process.env.no_proxy ?? '')
  .split(',')
  .map((h) => h.trim().toLowerCase().replace(/^\*?\./, '').replace(/^\[(.*)\]$/, '$1'))
  .filter(Boolean);
const straight = (host: string): boolean => {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return NO_PROXY.some((n) => n === '*' || h === n || h.endsWith(`.${n}`));
};

class SandboxDispatcher extends Dispatcher {
  private readonly direct = new Agent();
  // proxyTunnel: false sends http:// requests in absolute form (undici's types lack the option).
  private readonly proxy: ProxyAgent;

  constructor(uri: string) {
    super();
    this.proxy = new ProxyAgent({ uri, proxyTunnel: false } as ProxyAgent.Options);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    const origin = typeof options.origin === 'string' ? options.origin : options.origin?.toString();
    const host = origin ? new URL(origin).hostname : '';
    return (straight(host) ? this.direct : this.proxy).dispatch(options, handler);
  }

  override async close(): Promise<void> {
    await Promise.all([this.direct.close(), this.proxy.close()]);
  }

  override async destroy(): Promise<void> {
    await Promise.all([this.direct.destroy(), this.proxy.destroy()]);
  }
}

const uri = process.env.HTTP_PROXY ?? process.env.http_proxy;
if (uri) setGlobalDispatcher(new SandboxDispatcher(uri));
