/** What the figures were measured on: the machine and the exact package versions. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

const PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-cpu',
  'wrangler',
  // The bench and the workers tests run on the vitest plugin's workerd; wrangler (build, dev) has its own.
  'workerd',
  'miniflare',
  'wrangler/node_modules/workerd',
  '@cloudflare/vitest-plugin',
  'vitest',
  'hono',
];

/** The installed version, read from node_modules (some packages do not export their package.json). */
function version(path) {
  try {
    return JSON.parse(readFileSync(`${root}/node_modules/${path}/package.json`, 'utf8')).version;
  } catch {
    return null;
  }
}

export default {
  name: 'environment',
  async run() {
    const cpus = os.cpus();
    return {
      machine: {
        cpu: cpus[0]?.model ?? 'unknown',
        cores: cpus.length,
        memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        load_average_at_start: os.loadavg().map((v) => +v.toFixed(2)),
        orchestrator_node: process.version,
        runtime: 'workerd (via @cloudflare/vitest-plugin), TF.js wasm backend, SIMD binary, 1 thread',
      },
      packages: Object.fromEntries(PACKAGES.map((p) => [p, version(p)])),
    };
  },
};
