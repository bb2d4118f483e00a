import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../models/dataset';
import { datasetDeps } from '../../functions/services/dataset-deps';
import { loadSplit, saveDataset, studyHolder } from '../../shared/datasets';

function table(name: string, rows: number, shift: number): Dataset {
  const x = new Float32Array(rows * 2);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    y[r] = r % 2;
    x[r * 2] = y[r]! * 3 + shift + (r % 5) * 0.1;
    x[r * 2 + 1] = -y[r]! + (r % 3) * 0.2;
  }
  return { name, featureNames: ['a', 'b'], classNames: ['n', 'p'], x, y, rows, features: 2 };
}

async function versionsInR2(name: string): Promise<string[]> {
  const listed = await env.DATASETS.list({ prefix: `datasets/${name}/` });
  return [...new Set(listed.objects.map((o) => o.key.split('/')[2]!))].sort();
}

describe('dataset catalog: versions in R2, pins, read-your-write', () => {
  it('a replaced version nobody pins is deleted at once; the new one is read back immediately', async () => {
    const deps = datasetDeps(env);
    const v1 = await saveDataset(deps, table('cat-a', 40, 0));
    const v2 = await saveDataset(deps, table('cat-a', 50, 1));
    expect((await deps.catalog.get('cat-a'))!.version).toBe(v2.version);
    expect(await versionsInR2('cat-a')).toEqual([v2.version]);
    expect(await deps.catalog.versions('cat-a')).toEqual([v2.version]);
    const split = await loadSplit('cat-a', deps.blobs, v2.version);
    expect(split.train.rows + split.validation.rows + split.test.rows).toBe(50);
    await expect(loadSplit('cat-a', deps.blobs, v1.version)).rejects.toThrow(/no version/);
  });

  it('a pinned version survives replacement and deletion until its holder releases it', async () => {
    const deps = datasetDeps(env);
    const v1 = await saveDataset(deps, table('cat-b', 40, 0));
    const pinned = await deps.catalog.pin('cat-b', studyHolder('s1'));
    expect(pinned!.version).toBe(v1.version);
    // Idempotent: a retried start gets the same version back.
    expect((await deps.catalog.pin('cat-b', studyHolder('s1')))!.version).toBe(v1.version);
    const v2 = await saveDataset(deps, table('cat-b', 60, 2));
    expect(await versionsInR2('cat-b')).toEqual([v1.version, v2.version].sort());
    // The holder still reads exactly its version, although it is no longer current.
    expect((await loadSplit('cat-b', deps.blobs, v1.version)).train.rows).toBeGreaterThan(0);
    // A study started now pins the new version.
    expect((await deps.catalog.pin('cat-b', studyHolder('s2')))!.version).toBe(v2.version);
    expect((await deps.catalog.holders('cat-b')).map((h) => [h.holder, h.version])).toEqual(
      expect.arrayContaining([
        ['study:s1', v1.version],
        ['study:s2', v2.version],
      ]),
    );
    await deps.catalog.release(studyHolder('s1'));
    expect(await versionsInR2('cat-b')).toEqual([v2.version]);
    // Removing the dataset keeps the pinned (current) version until its holder lets go.
    expect(await deps.catalog.remove('cat-b')).not.toBeNull();
    expect(await deps.catalog.get('cat-b')).toBeNull();
    expect(await versionsInR2('cat-b')).toEqual([v2.version]);
    await deps.catalog.release(studyHolder('s2'));
    await deps.catalog.release(studyHolder('s2'));
    expect(await versionsInR2('cat-b')).toEqual([]);
  });

  it('settings carry over to a new version unless given; the listing sees a new dataset at once', async () => {
    const deps = datasetDeps(env);
    await saveDataset(deps, table('cat-c', 40, 0));
    const settings = { schedule: null, space: { optimizer: 'sgd' } };
    await deps.catalog.updateSettings('cat-c', settings);
    const next = await saveDataset(deps, table('cat-c', 44, 0));
    expect(next.settings).toEqual(settings);
    expect((await deps.catalog.list()).map((m) => m.name)).toContain('cat-c');
  });
});
