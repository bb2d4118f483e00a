// The knobs experiment/vitest.experiment.config.ts provides to the experiment inside workerd.
declare module 'vitest' {
  export interface ProvidedContext {
    ashaSeeds: number;
    ashaEpochs: number;
    ashaRandomTrials: number;
    searchSeeds: number;
    searchEpochs: number;
    searchTrials: number;
    searchDatasets: string[];
    searchMethods: string[];
    searchDeadline: number;
  }
}
export {};
