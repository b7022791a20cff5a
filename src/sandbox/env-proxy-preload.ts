/**
 * Loaded into every Node process in a sandbox (`NODE_OPTIONS=--import=<this file>`). Before
 * Node 24, `fetch` ignores `HTTP_PROXY`, so a Node tool server in a sandbox, whose only way out
 * is the proxy, would have no network at all. Node's own `fetch` takes its dispatcher from the
 * global that undici's `setGlobalDispatcher` sets, so a dispatcher there sends it through the
 * proxy: `http://` requests in absolute form, as Warden's egress proxy takes them (it refuses
 * CONNECT tunnels: docs/sandbox.md), the hosts `NO_PROXY` names (loopback) straight. Node's `http`
 * module is not affected: clients built on it read the proxy variables themselves.
 *
 * undici is loaded on the first `fetch`, not at start: most processes never fetch, and loading
 * it costs every sandboxed start tens of milliseconds.
 */
import { createRequire } from 'node:module';
import type { Dispatcher as DispatcherType, ProxyAgent as ProxyAgentType } from 'undici';

/** Where undici (npm's and Node's own) keeps the global dispatcher. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** The hosts of `NO_PROXY`: each a host name or address, or a domain (`.example.com`, `example.com`) with what is below it. */
const NO_PROXY = (process.env.NO_PROXY ?? process.env.no_proxy ?? '')
  .split(',')
  .map((h) => h.trim().toLowerCase().replace(/^\*?\./, '').replace(/^\[(.*)\]$/, '$1'))
  .filter(Boolean);

const straight = (host: string): boolean => {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return NO_PROXY.some((n) => n === '*' || h === n || h.endsWith(`.${n}`));
};

/**
 * Loads undici, makes the dispatcher and installs it as the global one (in place of the getter
 * below). Loading undici reads the global dispatcher itself (and, finding none, sets its own
 * default); this one is set after that.
 */
function installSandboxDispatcher(uri: string): DispatcherType {
  const undici = createRequire(import.meta.url)('undici') as typeof import('undici');
  class SandboxDispatcher extends undici.Dispatcher {
    private readonly direct = new undici.Agent();
    // proxyTunnel: false sends http:// requests in absolute form (undici's types lack the option).
    private readonly proxy = new undici.ProxyAgent({ uri, proxyTunnel: false } as ProxyAgentType.Options);

    override dispatch(options: DispatcherType.DispatchOptions, handler: DispatcherType.DispatchHandlers): boolean {
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
  const dispatcher = new SandboxDispatcher();
  undici.setGlobalDispatcher(dispatcher);
  return dispatcher;
}

const uri = process.env.HTTP_PROXY ?? process.env.http_proxy;
if (uri && !(GLOBAL_DISPATCHER in globalThis)) {
  let installing = false;
  Object.defineProperty(globalThis, GLOBAL_DISPATCHER, {
    configurable: true, // replaced by the installed dispatcher, or by the process's own setGlobalDispatcher
    enumerable: false,
    get: () => {
      if (installing) return undefined; // undici asking while it loads
      installing = true;
      try {
        return installSandboxDispatcher(uri);
      } finally {
        installing = false;
      }
    },
  });
}
