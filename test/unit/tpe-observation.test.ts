import { describe, expect, it } from 'vitest';
import type { EpochRecord } from '../../models/train';
import { observation } from '../../shared/study/search';
import type { FinishedState, TrialRecord } from '../../shared/study/types';

const epoch = (e: number, valAccuracy: number, valLoss: number): EpochRecord => ({
  ...{ epoch: e, learningRate: 0.01, loss: 0.5, accuracy: 0.9, valLoss, valAccuracy, ms: 1 },
});

function record(status: FinishedState, history: EpochRecord[]): TrialRecord {
  const last = history.at(-1);
  return {
    ...{ studyId: 's', model: 'm', trial: 0, attempts: 1, source: 'tpe', params: { width: 64 }, seed: 1, status },
    ...{ config: {} as TrialRecord['config'], reason: null, history, timing: null, stopReason: null },
    ...{ backend: null, simd: null, weightsKey: null, finishedAt: new Date(0).toISOString() },
    final: status === 'complete' && last ? { valAccuracy: last.valAccuracy, valLoss: last.valLoss } : null,
  };
}

describe('a finished trial as TPE sees it', () => {
  it('carries the validation loss beside the accuracy (what breaks ties between equal accuracies)', () => {
    const curve = [epoch(1, 0.9, 0.4), epoch(2, 0.95, 0.2), epoch(3, 0.96, 0.15)];
    expect(observation(record('complete', curve))).toMatchObject({ state: 'complete', value: 0.96, loss: 0.15 });
    // A pruned trial ranks by what it showed at its rung.
    expect(observation(record('pruned', curve.slice(0, 1)))).toMatchObject({ state: 'pruned', value: 0.9, loss: 0.4 });
    expect(observation(record('diverged', curve.slice(0, 2)))).toMatchObject({ value: null, loss: null });
    expect(observation(record('failed', curve))).toBeNull();
  });
});
