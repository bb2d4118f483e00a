/**
 * Measurement helpers shared by the bench sections running inside workerd. Each section prints one
 * `BENCH_SECTION {json}` line; bench/run.mjs collects them into bench/results.json.
 */

export interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function stat(samples: number[]): Stat {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, samples };
}

/**
 * Microseconds per call of a synchronous function. The isolate's clock is coarse (about 1 ms steps
 * here), so calls are batched until a batch spans at least `minMs`; each repeat is one batch.
 */
export function microsPerCall(f: () => void, repeats: number, minMs = 150): Stat {
  let calls = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) f();
    if (performance.now() - t0 >= minMs / 4) break;
    calls *= 2;
  }
  calls *= 4;
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) f();
    samples.push(((performance.now() - t0) * 1000) / calls);
  }
  return stat(samples);
}

export function emit(section: string, results: Record<string, unknown>): void {
  console.log(`BENCH_SECTION ${JSON.stringify({ section, results })}`);
}
