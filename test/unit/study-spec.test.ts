import { describe, expect, it } from 'vitest';
import type { DatasetMeta } from '../../shared/datasets';
import { resolveSearch } from '../../shared/study/search';
import { buildStudySpec, type StudyChoices } from '../../shared/study/spec';

const dataset: DatasetMeta = {
  name: 'iris',
  version: 'v-7',
  embedded: false,
  featureNames: ['a', 'b', 'c', 'd'],
  classNames: ['x', 'y', 'z'],
  classCounts: [50, 50, 50],
  rows: 150,
  features: 4,
  splitSeed: 42,
  splitCounts: { train: 105, validation: 22, test: 23 },
  createdAt: '2026-01-01T00:00:00.000Z',
  settings: { schedule: null, space: { width: { type: 'choice', values: [8, 16] } } },
};

const choices = (over: Partial<StudyChoices> = {}): StudyChoices => ({
  id: 'iris-1',
  model: 'flowers',
  origin: 'cron',
  search: resolveSearch({ sampler: 'random', pruner: null }),
  trials: 6,
  seed: 11,
  parallelism: 2,
  margin: 0,
  significance: 0.05,
  budget: { epochs: 5, maxSeconds: 30 },
  now: new Date('2026-12-01T08:00:00.000Z'),
  ...over,
});

describe('buildStudySpec: one assembly for the API and the cron', () => {
  it('takes version, default space and data shape from the dataset, and nulls what the caller left out', () => {
    expect(buildStudySpec(dataset, choices())).toEqual({
      id: 'iris-1',
      model: 'flowers',
      dataset: 'iris',
      strategy: 'random',
      sampler: 'random',
      pruner: null,
      trials: 6,
      seed: 11,
      parallelism: 2,
      margin: 0,
      significance: 0.05,
      budget: { epochs: 5, maxSeconds: 30 },
      space: dataset.settings.space,
      from: null,
      datasetVersion: 'v-7',
      warmStart: null,
      createdAt: '2026-12-01T08:00:00.000Z',
      origin: 'cron',
      trigger: { kind: 'schedule', detail: null },
      faults: null,
      asha: null,
      data: { features: 4, trainRows: 105 },
    });
  });

  it('keeps the caller’s space, search, tpe and sources, and mirrors the pruner into the legacy `asha` field', () => {
    const spec = buildStudySpec(
      dataset,
      choices({
        origin: 'api',
        search: resolveSearch({ sampler: 'tpe', pruner: { type: 'asha', minEpochs: 1, reductionFactor: 2 } }),
        tpe: { startupTrials: 3 },
        space: { depth: { type: 'int', min: 1, max: 2 } },
        from: 'iris-0',
        warmStart: { from: 'iris-0', params: [{ width: 8 }] },
      }),
    );
    expect(spec).toMatchObject({
      origin: 'api',
      trigger: { kind: 'api', detail: null },
      strategy: 'tpe+asha',
      sampler: 'tpe',
      pruner: { type: 'asha', minEpochs: 1, reductionFactor: 2 },
      asha: { minEpochs: 1, reductionFactor: 2 },
      tpe: { startupTrials: 3 },
      space: { depth: { type: 'int', min: 1, max: 2 } },
      from: 'iris-0',
      warmStart: { from: 'iris-0', params: [{ width: 8 }] },
    });
    expect('tpe' in buildStudySpec(dataset, choices())).toBe(false);
  });
});
