/**
 * The sections that run inside workerd (bench/workers/*.bench.test.ts, through the Workers vitest
 * plugin). Each test file prints one `BENCH_SECTION {json}` line; this collects them.
 */
import { runVitest } from '../../scripts/run-vitest.mjs';

export default {
  name: 'workerd',
  async run() {
    const stdout = await runVitest('bench/vitest.bench.config.ts');
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
