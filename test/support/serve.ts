import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `warden` command as a user runs it (from dist/test/support/). */
export const BIN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));

/** Starts `warden serve` as a user would and waits for its "listening" line. */
export async function serve(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, WARDEN_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /Warden listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        // The admin key, when printed, follows the listening line in the same write burst.
        setTimeout(() => resolve(m[1]!), 100);
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`warden serve exited with ${code}: ${out}`));
    });
  });
  return { child, url, output: () => out };
}

export async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

