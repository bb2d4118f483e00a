import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// The benchmarks run inside workerd, where the product runs, with the worker's own wrangler config
// (wasm modules, the embedded dataset, the __dirname define). Not part of `npm test`.
const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root,
  test: {
    name: 'bench',
    include: [process.env.BENCH_INCLUDE ?? 'bench/workers/**/*.bench.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    // One file at a time: sections must not compete for the two cores.
    fileParallelism: false,
    // Knobs read inside workerd through inject() (the isolate has no process.env).
    provide: {
      benchRepeats: Number(process.env.BENCH_REPEATS ?? 5),
      benchParitySeeds: Number(process.env.BENCH_PARITY_SEEDS ?? 6),
    },
  },
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
});
