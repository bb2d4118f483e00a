/**
 * "Panda mode": one Durable Object per training session, babysitting a single model. It trains in
 * slices from its alarm (a few epochs each, so no invocation runs long) and, after every slice, stores
 * everything the next slice needs in one atomic write: weights (with BN statistics), optimizer moments,
 * the batch-order and dropout streams, the epoch counter and the curve. A slice that dies half-way
 * leaves the previous state, and the retried alarm trains the same epochs again, identically.
 *
 * Hyperparameters can be adjusted between slices (the change is recorded against the first epoch it
 * applies to), training paused and resumed, and the model promoted under the registry's guard.
 * Every state change runs inside blockConcurrencyWhile, so a request never interleaves with a slice.
 */
import { DurableObject } from 'cloudflare:workers';
import { ModelConfigSchema, type ModelConfig } from '../../models/config';
import type { OptimizerState } from '../../models/engine/optimizers';
import type { RngState } from '../../models/random';
import { startSession, trainSlice, type SessionState } from '../../models/session-trainer';
import type { EpochRecord } from '../../models/train';
import { decodeWeights, encodeWeights } from '../../models/weights-codec';
import { loadSplit, SPLIT_SEED } from '../../shared/datasets';
import { log } from '../../shared/log';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { KvStore } from '../../shared/storage/kv-store';
import { keys } from '../../shared/storage/keys';
import { putJson } from '../../shared/storage/store';
import { promoteThroughGuard, type ChallengerRows } from '../../shared/study/champion';
import type { GuardSettings } from '../../shared/study/compare';
import { accuracyOf, testCorrectness } from '../../shared/study/test-accuracy';
import type { PromotionOutcome, VersionCandidate } from '../../shared/study/types';
import { initBackend } from '../../shared/tf/backend';
import {
  ADJUSTABLE,
  ok,
  refuse,
  type Adjustment,
  type AdjustmentMark,
  type Result,
  type SessionInit,
  type SessionStatus,
  type SessionView,
  type TrainingSessionContract,
} from './contracts';
import { registryStub } from './stubs';

/** The session listing in KV is refreshed at most this often while slices run. */
const INDEX_INTERVAL_MS = 2000;

interface Meta extends Omit<SessionInit, 'config'> {
  status: SessionStatus;
  promotion: PromotionOutcome | null;
  createdAt: string;
  updatedAt: string;
}

/** The trained state, stored under these keys in one put; weights are encoded, optimizer slots apart. */
interface Progress {
  seed: number;
  epoch: number;
  orderRng: RngState;
  maskRng: RngState;
  optimizer: { kind: OptimizerState['kind']; step: number; slots: number };
}
const slotKey = (i: number) => `opt:${i}`;
const DEFAULT_THRESHOLD = 0.5;

export class TrainingSession extends DurableObject<Env> implements TrainingSessionContract {
  private get store() {
    return new KvStore(this.env.KV);
  }

  private get blobs() {
    return new R2BlobStore(this.env.DATASETS);
  }

  private async meta(): Promise<Meta | null> {
    return (await this.ctx.storage.get<Meta>('meta')) ?? null;
  }

  private async loadState(): Promise<SessionState> {
    const got = await this.ctx.storage.get(['config', 'progress', 'weights']);
    const progress = got.get('progress') as Progress;
    const slots: Float32Array[] = [];
    for (let i = 0; i < progress.optimizer.slots; i++)
      slots.push((await this.ctx.storage.get<Float32Array>(slotKey(i)))!);
    return {
      config: got.get('config') as ModelConfig,
      seed: progress.seed,
      epoch: progress.epoch,
      weights: decodeWeights(got.get('weights') as Uint8Array),
      optimizer: { kind: progress.optimizer.kind, step: progress.optimizer.step, slots },
      orderRng: progress.orderRng,
      maskRng: progress.maskRng,
    };
  }

  /** Everything but the config (adjustments own it), as one batch of entries. */
  private stateEntries(s: SessionState): Record<string, unknown> {
    const progress: Progress = {
      seed: s.seed,
      epoch: s.epoch,
      orderRng: s.orderRng,
      maskRng: s.maskRng,
      optimizer: { kind: s.optimizer.kind, step: s.optimizer.step, slots: s.optimizer.slots.length },
    };
    const entries: Record<string, unknown> = { progress, weights: encodeWeights(s.weights) };
    s.optimizer.slots.forEach((slot, i) => (entries[slotKey(i)] = slot));
    return entries;
  }

  /** Creates the session and schedules its first slice. Idempotent: a second start returns the session. */
  async start(init: SessionInit): Promise<SessionView> {
    return this.ctx.blockConcurrencyWhile(async () => {
      if (!(await this.meta())) {
        await initBackend();
        const split = await loadSplit(init.dataset, this.blobs, init.datasetVersion);
        const state = startSession(init.config, split, init.seed);
        const now = new Date().toISOString();
        const { config: _config, ...rest } = init;
        const meta: Meta = { ...rest, status: 'running', promotion: null, createdAt: now, updatedAt: now };
        await this.ctx.storage.put({
          meta,
          config: init.config,
          curve: [],
          adjustments: [],
          ...this.stateEntries(state),
        });
        await this.scheduleSlice(meta);
        await this.writeIndex(true);
        log('session_start', {
          sessionId: init.id,
          model: init.model,
          dataset: init.dataset,
          epochs: init.config.epochs,
          sliceEpochs: init.sliceEpochs,
        });
      }
      return (await this.view())!;
    });
  }

  /**
   * The session's line in the KV listing (GET /v1/sessions): refreshed on every state change, and at
   * most every INDEX_INTERVAL_MS while slices run (KV takes about one write per second per key).
   */
  private async writeIndex(force: boolean): Promise<void> {
    const last = (await this.ctx.storage.get<number>('indexWrittenAt')) ?? 0;
    if (!force && Date.now() - last < INDEX_INTERVAL_MS) return;
    const view = await this.view();
    if (!view) return;
    const { curve, ...rest } = view;
    const headline = {
      model: view.model,
      dataset: view.dataset,
      status: view.status,
      epoch: view.epoch,
      epochs: view.config.epochs,
      createdAt: view.createdAt,
      valAccuracy: curve.at(-1)?.valAccuracy ?? null,
    };
    await putJson(
      this.store,
      keys.sessionIndex(view.id),
      { ...rest, lastEpoch: curve.at(-1) ?? null },
      { metadata: headline },
    );
    await this.ctx.storage.put('indexWrittenAt', Date.now());
  }

  /** Every slice, the first one included, starts intervalMs after it is scheduled. */
  private scheduleSlice(meta: Pick<Meta, 'intervalMs'>): Promise<void> {
    return this.ctx.storage.setAlarm(Date.now() + meta.intervalMs);
  }

  async view(): Promise<SessionView | null> {
    const meta = await this.meta();
    if (!meta) return null;
    const got = await this.ctx.storage.get(['config', 'progress', 'curve', 'adjustments']);
    return {
      ...meta,
      epoch: (got.get('progress') as Progress).epoch,
      config: got.get('config') as ModelConfig,
      curve: got.get('curve') as EpochRecord[],
      adjustments: got.get('adjustments') as AdjustmentMark[],
    };
  }

  /** One slice: trains sliceEpochs epochs from the stored state and stores the result, then re-arms. */
  override async alarm(): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      const meta = await this.meta();
      if (!meta || meta.status !== 'running') return;
      await initBackend();
      const split = await loadSplit(meta.dataset, this.blobs, meta.datasetVersion);
      const state = await this.loadState();
      const slice = trainSlice(state, split, meta.sliceEpochs);
      const curve = [...((await this.ctx.storage.get<EpochRecord[]>('curve')) ?? []), ...slice.records];
      const status: SessionStatus = slice.diverged
        ? 'diverged'
        : slice.state.epoch >= state.config.epochs
          ? 'complete'
          : 'running';
      const next: Meta = { ...meta, status, updatedAt: new Date().toISOString() };
      // One write: a slice either happened completely (state, curve, status) or not at all.
      await this.ctx.storage.put({ ...this.stateEntries(slice.state), curve, meta: next });
      if (status === 'running') await this.scheduleSlice(meta);
      await this.writeIndex(status !== 'running');
      const last = slice.records.at(-1);
      log('session_slice', {
        sessionId: meta.id,
        epoch: slice.state.epoch,
        status,
        valAccuracy: last?.valAccuracy ?? null,
        learningRate: last?.learningRate ?? null,
      });
    });
  }

  /** Changes hyperparameters for the following epochs; extending `epochs` revives a complete session. */
  async adjust(changes: Adjustment): Promise<Result<SessionView>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const meta = await this.meta();
      if (!meta) return refuse('not_found', 'no such session');
      if (meta.status === 'diverged') return refuse('conflict', 'the session diverged; start a new one');
      const fixed = Object.keys(changes).filter((k) => !(ADJUSTABLE as readonly string[]).includes(k));
      if (fixed.length)
        return refuse(
          'validation_failed',
          `${fixed.join(', ')}: fixed for the session's life (adjustable: ${ADJUSTABLE.join(', ')})`,
        );
      const config = (await this.ctx.storage.get<ModelConfig>('config'))!;
      const epoch = (await this.ctx.storage.get<Progress>('progress'))!.epoch;
      const parsed = ModelConfigSchema.safeParse({ ...config, ...changes });
      if (!parsed.success)
        return refuse(
          'validation_failed',
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      if (parsed.data.epochs <= epoch)
        return refuse('validation_failed', `epochs: must exceed the ${epoch} epochs already trained`);
      const previous: Adjustment = {};
      for (const k of Object.keys(changes) as (keyof Adjustment)[])
        (previous as Record<string, unknown>)[k] = config[k];
      const marks = (await this.ctx.storage.get<AdjustmentMark[]>('adjustments')) ?? [];
      marks.push({ epoch: epoch + 1, changes, previous, at: new Date().toISOString() });
      const status: SessionStatus = meta.status === 'complete' ? 'running' : meta.status;
      await this.ctx.storage.put({
        config: parsed.data,
        adjustments: marks,
        meta: { ...meta, status, updatedAt: new Date().toISOString() },
      });
      if (meta.status === 'complete') await this.scheduleSlice(meta);
      await this.writeIndex(true);
      log('session_adjust', { sessionId: meta.id, fromEpoch: epoch + 1, changes });
      return ok((await this.view())!);
    });
  }

  async pause(): Promise<Result<SessionView>> {
    return this.setRunning(false);
  }

  async resume(): Promise<Result<SessionView>> {
    return this.setRunning(true);
  }

  private async setRunning(run: boolean): Promise<Result<SessionView>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const meta = await this.meta();
      if (!meta) return refuse('not_found', 'no such session');
      const to: SessionStatus = run ? 'running' : 'paused';
      // Asking twice is harmless; a complete or diverged session has nothing to pause or resume.
      if (meta.status === to) return ok((await this.view())!);
      if (meta.status !== (run ? 'paused' : 'running')) return refuse('conflict', `the session is ${meta.status}`);
      await this.ctx.storage.put('meta', { ...meta, status: to, updatedAt: new Date().toISOString() } satisfies Meta);
      if (run) await this.scheduleSlice(meta);
      else await this.ctx.storage.deleteAlarm();
      await this.writeIndex(true);
      log(run ? 'session_resume' : 'session_pause', { sessionId: meta.id });
      return ok((await this.view())!);
    });
  }

  /**
   * Promotes the current weights under the same champion/challenger guard as studies (the champion scored
   * on this session's test rows). The registry answers once per session id, so a session promotes at most
   * once; asking again returns that answer.
   */
  async promote(settings: GuardSettings): Promise<Result<PromotionOutcome>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const meta = await this.meta();
      if (!meta) return refuse('not_found', 'no such session');
      if (meta.promotion) return ok(meta.promotion);
      if (meta.status === 'diverged') return refuse('conflict', 'a diverged session cannot be promoted');
      const curve = (await this.ctx.storage.get<EpochRecord[]>('curve')) ?? [];
      const last = curve.at(-1);
      if (!last) return refuse('conflict', 'nothing trained yet');
      const state = await this.loadState();
      const { candidate, rows } = await this.candidate(meta, state, last);
      const outcome = await promoteThroughGuard(
        registryStub(this.env.MODELS, meta.model),
        this.store,
        candidate,
        rows,
        settings,
      );
      await this.ctx.storage.put('meta', {
        ...meta,
        promotion: outcome,
        updatedAt: new Date().toISOString(),
      } satisfies Meta);
      await this.writeIndex(true);
      log(outcome.promoted ? 'session_promotion' : 'session_promotion_declined', {
        sessionId: meta.id,
        model: meta.model,
        version: outcome.version,
        reason: outcome.reason,
      });
      return ok(outcome);
    });
  }

  /** As a study's candidate: weights under an immutable KV key first, scored on the test rows as served. */
  private async candidate(
    meta: Meta,
    state: SessionState,
    last: EpochRecord,
  ): Promise<{ candidate: VersionCandidate; rows: ChallengerRows }> {
    await initBackend();
    const split = await loadSplit(meta.dataset, this.blobs, meta.datasetVersion);
    const correct = testCorrectness(state.weights, state.config, split);
    const weightsKey = keys.trialWeights(meta.id, state.epoch, `session-${crypto.randomUUID().slice(0, 8)}`);
    await this.store.put(weightsKey, encodeWeights(state.weights));
    const candidate: VersionCandidate = {
      model: meta.model,
      studyId: meta.id,
      trial: state.epoch,
      dataset: meta.dataset,
      datasetVersion: meta.datasetVersion,
      splitSeed: SPLIT_SEED,
      config: state.config,
      featureNames: split.featureNames,
      classNames: split.classNames,
      standardisation: split.standardisation,
      metrics: {
        validationAccuracy: last.valAccuracy,
        validationLoss: last.valLoss,
        testAccuracy: accuracyOf(correct),
      },
      threshold: DEFAULT_THRESHOLD,
      weightsKey,
    };
    return { candidate, rows: { dataset: meta.dataset, datasetVersion: meta.datasetVersion, split, correct } };
  }
}
