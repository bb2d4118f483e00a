/**
 * Runs vitest in a child process with a given config (the bench and experiment suites, which run inside
 * workerd and print their results as marked lines) and resolves with its stdout, colour codes removed.
 * Its stderr (progress, logs) goes straight to ours.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ANSI = /\u001b\[[0-9;]*m/g;

/** @param {string} config  @param {string[]} [files] @returns {Promise<string>} */
export function runVitest(config, files = []) {
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', '--config', config, ...files], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(stdout.replace(ANSI, ''))
        : reject(new Error(`vitest exited with ${code}\n${stdout.replace(ANSI, '').slice(-4000)}`)),
    );
  });
}
