import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// The experiments (ASHA; search) train inside workerd, with the worker's own wrangler config (wasm modules, the
// embedded dataset). Not part of `npm test`: `npm run experiment:asha` / `experiment:search` run them (each names its file).
const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root,
  test: {
    name: 'experiment',
    include: ['experiment/workers/**/*.experiment.test.ts'],
    // The search experiment at its default 20 seeds: digits ~10 minutes and the wide table ~2.5 minutes a seed on
    // a quiet machine, about an hour in all (3550 s on 2026-12-02); a 1-hour limit could kill it with nothing
    // written. EXPERIMENT_TIMEOUT_MS overrides.
    testTimeout: Number(process.env.EXPERIMENT_TIMEOUT_MS ?? 4 * 3_600_000),
    provide: {
      ashaSeeds: Number(process.env.ASHA_SEEDS ?? 5),
      ashaEpochs: Number(process.env.ASHA_EPOCHS ?? 27),
      ashaRandomTrials: Number(process.env.ASHA_RANDOM_TRIALS ?? 10),
      searchSeeds: Number(process.env.SEARCH_SEEDS ?? 20),
      searchEpochs: Number(process.env.SEARCH_EPOCHS ?? 6),
      searchTrials: Number(process.env.SEARCH_TRIALS ?? 20),
      searchDatasets: (process.env.SEARCH_DATASETS ?? 'digits,wide').split(','),
      searchMethods: (process.env.SEARCH_METHODS ?? 'random,tpe,tpe+asha').split(','),
      // ISO time or empty: no new seed starts after it (see the experiment).
      searchDeadline: process.env.SEARCH_DEADLINE ? Date.parse(process.env.SEARCH_DEADLINE) : 0,
    },
  },
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
});
