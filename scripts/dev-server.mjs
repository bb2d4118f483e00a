// Starts `wrangler dev` on free loopback ports and resolves once it answers. Shared by the e2e tests,
// `npm start` and the load/benchmark scripts, so all of them exercise the real bundle in local workerd.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wranglerBin = path.join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * @param {{ port?: number, persistTo?: string, extraArgs?: string[], log?: (line: string) => void, timeoutMs?: number }} [opts]
 * @returns {Promise<{ url: string, port: number, stop: () => Promise<void>, output: () => string }>}
 */
export async function startDevServer(opts = {}) {
  const port = opts.port ?? (await freePort());
  const inspector = await freePort();
  const args = [
    wranglerBin,
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspector),
    '--show-interactive-dev-session=false',
  ];
  if (opts.persistTo) args.push('--persist-to', opts.persistTo);
  args.push(...(opts.extraArgs ?? []));
  // process.execPath: the Node that runs this script (npm scripts provide Node 22, which wrangler needs).
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (chunk) => {
    const text = chunk.toString();
    output += text;
    if (opts.log) for (const line of text.split('\n')) if (line.trim()) opts.log(line);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`wrangler dev did not answer within the timeout:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    url,
    port,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
