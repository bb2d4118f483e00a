import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../models/config';
import { assignmentOf, toConfig } from '../../models/search';

describe('a whole configuration as an assignment', () => {
  it('gives the configuration back through toConfig, with the epochs left to the budget', () => {
    const configs = [
      resolveConfig({ optimizer: 'rmsprop', learningRate: 0.003, batchNorm: true, bnPlacement: 'after', epochs: 12 }),
      resolveConfig({ optimizer: 'sgd', decay: 'step', batchNorm: false, dropout: 0.2, depth: 3, width: 40 }),
    ];
    for (const config of configs) {
      const params = assignmentOf(config);
      expect(params).not.toHaveProperty('epochs');
      expect(toConfig(params, config.epochs)).toEqual(config);
      expect(toConfig(params, 30).epochs).toBe(30);
    }
  });
});
