// The values bench/vitest.bench.config.ts provides to the sections.
declare module 'vitest' {
  export interface ProvidedContext {
    benchRepeats: number;
    benchParitySeeds: number;
  }
}
export {};
