/**
 * The first process inside a sandbox (started by bubblewrap; it imports nothing of Warden's).
 * The sandbox has its own network namespace with nothing but loopback, so this process is
 * its only way out: it listens on `127.0.0.1:<port>` (what HTTP_PROXY names) and relays each
 * connection, byte for byte, to the Unix socket bound into the sandbox, behind which Warden's
 * egress proxy decides every request. Then it runs the real command with the sandbox's stdin,
 * stdout and stderr handed over as they are (an MCP server's framing never passes through
 * this process), forwards termination signals to it, and exits as it exited.
 *
 * Usage: node relay.js <port> <socket> -- <command> [args…]
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';

const [portText, socketPath, separator, command, ...args] = process.argv.slice(2);
const port = Number(portText);

function fail(message: string, code: number): never {
  process.stderr.write(`warden-sandbox: ${message}\n`);
  process.exit(code);
}

if (separator !== '--' || !command || !socketPath || !Number.isInteger(port) || port < 1 || port > 65535) {
  fail('usage: relay.js <port> <socket> -- <command> [args…]', 125);
}

const relay = createServer((client: Socket) => {
  const warden = connect(socketPath);
  const close = (): void => {
    client.destroy();
    warden.destroy();
  };
  client.on('error', close);
  warden.on('error', close);
  client.on('close', close);
  warden.on('close', close);
  client.pipe(warden);
  warden.pipe(client);
});
relay.on('error', (err: NodeJS.ErrnoException) => fail(`egress relay: ${err.code ?? 'failed'}`, 125));

relay.listen(port, '127.0.0.1', () => {
  const child = spawn(command, args, { stdio: 'inherit' });
  child.on('error', (err: NodeJS.ErrnoException) => {
    // The shell's conventions: 127 not found, 126 found but not runnable.
    fail(`cannot run ${command}: ${err.code ?? 'failed'}`, err.code === 'ENOENT' ? 127 : 126);
  });
  const forwarded: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  for (const sig of forwarded) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    relay.close();
    if (signal) {
      // Die of the same signal, so whoever waits on the sandbox sees how the command ended.
      for (const sig of forwarded) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
});
