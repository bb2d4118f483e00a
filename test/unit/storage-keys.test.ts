import { describe, expect, it } from 'vitest';
import {
  apiKeyKeys,
  catalogKeys,
  coordinatorKeys,
  datasetObjects,
  keys,
  registryKeys,
  sessionKeys,
} from '../../shared/storage/keys';

// Stored data sits under these exact strings (KV, R2 and Durable Object storage of earlier builds): a
// change here would orphan it, so every template is pinned to the string it has always produced.
describe('storage keys keep the strings stored data already sits under', () => {
  it('KV and R2', () => {
    expect(keys.trialRecord('s-1', 7)).toBe('study/s-1/trial/0007');
    expect(keys.trialRecordPrefix('s-1')).toBe('study/s-1/trial/');
    expect(keys.trialWeights('s-1', 12, 'a1-x')).toBe('weights/s-1/0012/a1-x');
    expect(keys.studyAggregate('s-1')).toBe('study/s-1/aggregate');
    expect(datasetObjects.versionPrefix('iris', 'v2')).toBe('datasets/iris/v2/');
    expect(datasetObjects.data('iris', 'v2')).toBe('datasets/iris/v2/data.bin');
    expect(datasetObjects.meta('iris', 'v2')).toBe('datasets/iris/v2/meta.json');
    expect(datasetObjects.table('iris', 'v2')).toBe('datasets/iris/v2/table.json');
  });

  it('inside the Durable Objects', () => {
    expect([coordinatorKeys.slot(3), coordinatorKeys.record(3), coordinatorKeys.planned(3)]).toEqual([
      'slot:0003',
      'record:0003',
      'planned:0003',
    ]);
    expect([coordinatorKeys.rung(9), coordinatorKeys.unpublished(10)]).toEqual(['rung:0009', 'unpublished:0010']);
    expect([
      coordinatorKeys.slotPrefix,
      coordinatorKeys.recordPrefix,
      coordinatorKeys.rungPrefix,
      coordinatorKeys.unpublishedPrefix,
    ]).toEqual(['slot:', 'record:', 'rung:', 'unpublished:']);
    expect([registryKeys.version(42), registryKeys.versionPrefix]).toEqual(['version:000042', 'version:']);
    expect(registryKeys.promotedStudy('s-1')).toBe('promotedStudy:s-1');
    expect(registryKeys.explicitStudy('s-1')).toBe('explicitStudy:s-1');
    expect([catalogKeys.current('iris'), catalogKeys.currentPrefix]).toEqual(['current:iris', 'current:']);
    expect([catalogKeys.version('iris', 'v2'), catalogKeys.versionsOf('iris')]).toEqual([
      'version:iris/v2',
      'version:iris/',
    ]);
    expect(catalogKeys.pin('study:s-1')).toBe('pin:study:s-1');
    expect([catalogKeys.doomed('iris', 'v1'), catalogKeys.doomedPrefix]).toEqual(['doomed:iris/v1', 'doomed:']);
    expect([sessionKeys.weightsPrefix, sessionKeys.optimizerSlotPrefix(1)]).toEqual(['weights', 'opt1']);
    expect(sessionKeys.chunk('opt1', 2)).toBe('opt1/0002');
    expect([apiKeyKeys.record, apiKeyKeys.bucket]).toEqual(['record', 'bucket']);
  });
});
