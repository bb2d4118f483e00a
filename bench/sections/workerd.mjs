/**
 * The sections that run inside workerd (bench/workers/*.bench.test.ts, through the Workers vitest
 * plugin). Each test file prints one `BENCH_SECTION {json}` line; this collects them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ANSI = /\u001b\[[0-9;]*m/g;

function runVitest() {
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', '--config', 'bench/vitest.bench.config.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`vitest exited with ${code}\n${stdout.slice(-4000)}`)),
    );
  });
}

export default {
  name: 'workerd',
  async run() {
    const stdout = (await runVitest()).replace(ANSI, '');
    const merged = {};
    for (const line of stdout.split('\n')) {
      const at = line.indexOf('BENCH_SECTION ');
      if (at < 0) continue;
      const { section, results } = JSON.parse(line.slice(at + 'BENCH_SECTION '.length));
      process.stderr.write(`[bench]   ${section}: ${Object.keys(results).length} keys\n`);
      Object.assign(merged, results);
    }
    if (Object.keys(merged).length === 0) throw new Error('no BENCH_SECTION output from the workerd run');
    return merged;
  },
};
