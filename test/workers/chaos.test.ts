/**
 * The chaos acceptance run (issue 12): 20 studies x 12 trials through the real local Queue, Durable
 * Objects, KV and D1, with the platform-faithful layer on, plus injected queue redelivery, Durable Object
 * resets and KV 429s. Every study must complete; one record per trial whose bytes never change after the
 * first write; at most one promotion per study; every listing shows the final status within 3 s.
 * Epochs are tiny (1 epoch, width 16) so it runs in minutes on 2 cores.
 */
import { env } from 'cloudflare:workers';
import { abortAllDurableObjects } from 'cloudflare:test';
import { expect, it } from 'vitest';
import { registryStub, studyStub } from '../../functions/durable/stubs';
import { keys } from '../../shared/storage/keys';
import type { TrialRecord } from '../../shared/study/types';
import { call, startStudy } from './api-helpers';
import { faithful } from './platform/faithful';

const STUDIES = 20;
const TRIALS = 12;
const LISTING_DEADLINE_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const space = {
  width: 16,
  depth: 1,
  batchNorm: false,
  dropout: 0,
  batchSize: 128,
  activation: { type: 'categorical', choices: ['relu', 'tanh'] },
  learningRate: { type: 'float', low: 0.001, high: 0.05, log: true },
};

it(
  `${STUDIES} studies x ${TRIALS} trials under queue redelivery, Durable Object resets and KV 429s`,
  async () => {
    const started = faithful.realNow();
    const writes = faithful.recordKvWrites('study/');
    faithful.injectKvWriteFailures(0.1, 12);
    const ids: string[] = [];
    for (let i = 0; i < STUDIES; i++)
      ids.push(
        await startStudy(`chaos-${String(i).padStart(2, '0')}`, {
          trials: TRIALS,
          parallelism: 3,
          seed: 100 + i,
          budget: { epochs: 1, maxSeconds: 30 },
          space,
        }),
      );

    const completedAt = new Map<string, number>();
    const listedAt = new Map<string, number>();
    let resets = 0;
    let redeliveries = 0;
    let round = 0;
    const deadline = started + 15 * 60_000;
    while (listedAt.size < STUDIES) {
      expect(faithful.realNow(), `finished ${completedAt.size}/${STUDIES}`).toBeLessThan(deadline);
      round += 1;
      // Queue redelivery: a message for a random trial of a random unfinished study, again.
      for (let k = 0; k < 3; k++) {
        const id = ids[(round * 7 + k * 13) % STUDIES]!;
        if (completedAt.has(id)) continue;
        await env.TRIALS.send({ studyId: id, trial: (round * 5 + k) % TRIALS });
        redeliveries += 1;
      }
      // Durable Object resets: every object dies mid-flight now and then.
      if (round % 15 === 0 && resets < 6) {
        await abortAllDurableObjects();
        resets += 1;
      }
      for (const id of ids) {
        if (listedAt.has(id)) continue;
        if (!completedAt.has(id)) {
          const view = await studyStub(env.STUDIES, id)
            .maybeView()
            .catch(() => null);
          if (view?.status === 'complete') completedAt.set(id, faithful.realNow());
        }
      }
      if (completedAt.size > listedAt.size) {
        const listed = (await call('/v1/studies')).body.studies as { id: string; status: string }[];
        for (const s of listed)
          if (s.status === 'complete' && completedAt.has(s.id) && !listedAt.has(s.id))
            listedAt.set(s.id, faithful.realNow());
      }
      await sleep(250);
    }
    const injected = faithful.stopKvWriteFailures();

    // Every listing showed the final status within 3 s of the study completing.
    const lags = ids.map((id) => listedAt.get(id)! - completedAt.get(id)!);
    for (const lag of lags) expect(lag).toBeLessThanOrEqual(LISTING_DEADLINE_MS);

    let promotions = 0;
    let recordsChecked = 0;
    for (const id of ids) {
      // Everything KV is owed gets there (retried by the coordinator's alarm after refused writes).
      for (let i = 0; i < 100 && !(await studyStub(env.STUDIES, id).published()); i++) await sleep(200);
      expect(await studyStub(env.STUDIES, id).published()).toBe(true);
      const view = await studyStub(env.STUDIES, id).view();
      expect(view.status).toBe('complete');
      expect(view.progress.total).toBe(TRIALS);
      const committed = (await studyStub(env.STUDIES, id).records()).sort((a, b) => a.trial - b.trial);
      expect(committed.map((r) => r.trial)).toEqual([...Array(TRIALS).keys()]);
      for (const r of committed) {
        const key = keys.trialRecord(id, r.trial);
        // Every write this key ever received carried the same bytes, and those are the committed record's.
        const contents = new Set(writes.get(key) ?? []);
        expect(contents.size, key).toBe(1);
        const bytes = await faithful.origin(env.KV).getText(key);
        expect(bytes).toBe([...contents][0]);
        expect(JSON.parse(bytes!) as TrialRecord).toEqual(r);
        recordsChecked += 1;
      }
      const history = (await registryStub(env.MODELS, view.spec.model).state()).history;
      const promoted = history.filter((h) => h.action === 'promote' && h.studyId === id).length;
      expect(promoted).toBeLessThanOrEqual(1);
      expect(promoted).toBe(view.promotion?.promoted ? 1 : 0);
      promotions += promoted;
    }
    // The model listing shows each promoted version.
    const models = (await call('/v1/models')).body.models as { name: string; version: number | null }[];
    for (const id of ids) {
      const view = await studyStub(env.STUDIES, id).view();
      if (view.promotion?.promoted)
        expect(models.find((m) => m.name === view.spec.model)?.version).toBe(view.promotion.version);
    }
    faithful.stopRecordingKvWrites();
    const runtimeS = (faithful.realNow() - started) / 1000;
    console.log(
      JSON.stringify({
        chaos: {
          studies: STUDIES,
          trialsPerStudy: TRIALS,
          recordsChecked,
          promotions,
          resets,
          redeliveries,
          injectedKv429: injected,
          throttledKv429: faithful.counts().throttled,
          maxListingLagMs: Math.max(...lags),
          runtimeS,
        },
      }),
    );
    expect(recordsChecked).toBe(STUDIES * TRIALS);
    expect(injected).toBeGreaterThan(0);
    expect(resets).toBeGreaterThan(0);
  },
  20 * 60_000,
);
