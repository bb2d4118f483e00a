import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Pure logic in plain Node; everything touching TF.js, KV, Queues or HTTP inside workerd; and the real
// bundle end to end through `wrangler dev`.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        // The bundle as wrangler builds it, served by `wrangler dev` on loopback.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // The test-only fault switch (trials that throw on purpose) is on for the test suite only.
            miniflare: {
              bindings: {
                ALLOW_FAULT_INJECTION: 'true',
                // Small scheduled studies so the cron tests finish in seconds.
                RETUNE_SCHEDULES: JSON.stringify([
                  {
                    model: 'cron-digits',
                    dataset: 'digits',
                    everyHours: 24,
                    trials: 2,
                    budget: { epochs: 2, maxSeconds: 30 },
                    parallelism: 2,
                  },
                ]),
              },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
          // The platform's documented limits on the real local bindings, for every workers test file.
          setupFiles: ['test/workers/platform/setup.ts'],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
