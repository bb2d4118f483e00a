/**
 * "Panda mode": one Durable Object per training session, babysitting a single model. It trains in
 * slices from its alarm and, after every slice, stores everything the next slice needs in one
 * transaction: weights (with BN statistics), optimizer moments, the batch-order and dropout streams, the
 * epoch counter and position inside an epoch, the curve and the status. An eviction or a crash sees the
 * previous slice or this one, never a mix.
 *
 * Storage: DO storage (SQLite-backed) rather than R2. Weights and moments are chunked under the 2 MB
 * per-value limit (./chunked-values.ts) and written in the same transactionSync as the small state, so
 * the commit is atomic with no pointer swap; with R2 a slice would write an object, then swap a pointer
 * here, and clean up the objects of slices that crashed in between. The state is private to this object,
 * rewritten every slice and read only by it: what DO storage is for.
 *
 * A slice trains a number of mini-batches sized from the measured time of the previous slices
 * (models/session-pace.ts), so it stays far below the platform's limits whatever the network or
 * dataset, and may stop inside an epoch. It does not run inside blockConcurrencyWhile: requests are
 * answered between slices, and a pause or adjustment that arrives while the slice reads its dataset is
 * seen before it trains. A slice that fails (an exception, a dataset that disappeared) is recorded once
 * as the session's failure, with the reason, and the alarm is not re-armed; a non-finite loss ends the
 * session as diverged.
 *
 * Hyperparameters can be adjusted between slices (the change is recorded against the first epoch it
 * applies to: an epoch in progress finishes with the values it began with), training paused and
 * resumed, and the model promoted under the registry's guard.
 */
import { DurableObject } from 'cloudflare:workers';
import { ModelConfigSchema, type ModelConfig } from '../../models/config';
import type { OptimizerState } from '../../models/engine/optimizers';
import type { RngState } from '../../models/random';
import { estimatedPace, measuredPace, shareSliceTime, sliceBatches, type SlicePace } from '../../models/session-pace';
import {
  batchesPerEpoch,
  sessionFloats,
  startSession,
  trainSlice,
  type EpochCursor,
  type SessionState,
  type SliceResult,
} from '../../models/session-trainer';
import type { EpochRecord } from '../../models/train';
import { decodeWeights, encodeWeights } from '../../models/weights-codec';
import { isEmbeddedDataset, loadSplit, sessionHolder, UnknownDatasetError } from '../../shared/datasets';
import { log, logError } from '../../shared/log';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { KvStore } from '../../shared/storage/kv-store';
import { keys, SESSION_WEIGHTS_TAG, sessionKeys } from '../../shared/storage/keys';
import type { SessionHeadline } from '../../shared/storage/headlines';
import { D1Listings } from '../../shared/storage/listings';
import { promoteThroughGuard, type ChallengerRows } from '../../shared/study/champion';
import type { GuardSettings } from '../../shared/study/compare';
import { buildCandidate } from '../../shared/study/candidate';
import type { PromotionOutcome, VersionCandidate } from '../../shared/study/types';
import { initBackend } from '../../shared/tf/backend';
import { bytesOf, readChunked, writeChunked, type ChunkLayout } from './chunked-values';
import {
  ADJUSTABLE,
  ok,
  refuse,
  type Adjustment,
  type AdjustmentMark,
  type Result,
  type SessionFailure,
  type SessionInit,
  type SessionStatus,
  type SessionView,
  type TrainingSessionContract,
} from './contracts';
import { catalogStub, registryStub } from './stubs';

/** The session listing in KV is refreshed at most this often while slices run. */
const INDEX_INTERVAL_MS = 2000;

/**
 * What a deletion still owes once the session's state is gone: the dataset pin and the listing line live in
 * other services, so they are released after the local delete and retried by the alarm until they are.
 * Removed with the last of them, leaving the object's storage empty.
 */
const DELETION_OWED = 'deletionOwed';
const DELETION_RETRY_MS = 5000;

interface DeletionOwed {
  id: string;
  dataset: string;
}

interface Meta extends Omit<SessionInit, 'config'> {
  status: SessionStatus;
  promotion: PromotionOutcome | null;
  failure: SessionFailure | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * The trained state's small part, and where its large part is: the encoded weights and each optimizer
 * slot are chunked blobs (./chunked-values.ts) under the prefixes below.
 */
interface Progress {
  seed: number;
  epoch: number;
  cursor: EpochCursor | null;
  orderRng: RngState;
  maskRng: RngState;
  weights: ChunkLayout;
  optimizer: { kind: OptimizerState['kind']; step: number; slots: ChunkLayout[] };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

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

  private get kv(): SyncKvStorage {
    return this.ctx.storage.kv;
  }

  /** The stored state, read synchronously: no request can interleave between the reads. */
  private loadState(): SessionState {
    const progress = this.kv.get<Progress>('progress')!;
    const slots = progress.optimizer.slots.map((layout, i) => {
      const slot = new Float32Array(layout.bytes / 4);
      readChunked(this.kv, sessionKeys.optimizerSlotPrefix(i), layout, bytesOf(slot));
      return slot;
    });
    return {
      config: this.kv.get<ModelConfig>('config')!,
      seed: progress.seed,
      epoch: progress.epoch,
      cursor: progress.cursor,
      weights: decodeWeights(readChunked(this.kv, sessionKeys.weightsPrefix, progress.weights)),
      optimizer: { kind: progress.optimizer.kind, step: progress.optimizer.step, slots },
      orderRng: progress.orderRng,
      maskRng: progress.maskRng,
    };
  }

  /**
   * Stores the state (all but the config, which adjustments own) and `also` in one transaction: every
   * chunk of the weights and moments, the progress record and the given small values commit together.
   */
  private storeState(s: SessionState, also: Record<string, unknown>): void {
    const kv = this.kv;
    this.ctx.storage.transactionSync(() => {
      const previous = kv.get<Progress>('progress') ?? null;
      const progress: Progress = {
        seed: s.seed,
        epoch: s.epoch,
        cursor: s.cursor,
        orderRng: s.orderRng,
        maskRng: s.maskRng,
        weights: writeChunked(kv, sessionKeys.weightsPrefix, encodeWeights(s.weights), previous?.weights ?? null),
        optimizer: {
          kind: s.optimizer.kind,
          step: s.optimizer.step,
          slots: s.optimizer.slots.map((slot, i) =>
            writeChunked(kv, sessionKeys.optimizerSlotPrefix(i), bytesOf(slot), previous?.optimizer.slots[i] ?? null),
          ),
        },
      };
      kv.put('progress', progress);
      for (const [key, value] of Object.entries(also)) kv.put(key, value);
    });
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
        const meta: Meta = {
          ...rest,
          status: 'running',
          promotion: null,
          failure: null,
          createdAt: now,
          updatedAt: now,
        };
        this.storeState(state, { meta, config: init.config, curve: [], adjustments: [] });
        await this.scheduleSlice(meta);
        await this.writeIndex(true);
        log('session_start', {
          sessionId: init.id,
          model: init.model,
          dataset: init.dataset,
          epochs: init.config.epochs,
          sliceEpochs: init.sliceEpochs,
          sliceTargetMs: init.sliceTargetMs,
          parameters: sessionFloats(init.config, split.features, split.classes),
        });
      }
      return (await this.view())!;
    });
  }

  /**
   * The session's line in the listing (GET /v1/sessions, in D1: strongly consistent, no per-key write
   * rate): refreshed on every state change, and at most every INDEX_INTERVAL_MS while slices run.
   */
  private async writeIndex(force: boolean): Promise<void> {
    const last = (await this.ctx.storage.get<number>('indexWrittenAt')) ?? 0;
    if (!force && Date.now() - last < INDEX_INTERVAL_MS) return;
    const view = await this.view();
    if (!view) return;
    const { curve } = view;
    const headline: SessionHeadline = {
      model: view.model,
      dataset: view.dataset,
      status: view.status,
      epoch: view.epoch,
      epochs: view.config.epochs,
      createdAt: view.createdAt,
      valAccuracy: curve.at(-1)?.valAccuracy ?? null,
    };
    const listings = new D1Listings(this.env.DB);
    await listings.upsert('session', view.id, {
      createdAt: view.createdAt,
      status: view.status,
      dataset: view.dataset,
      headline,
    });
    // A deletion may have run while the upsert was in flight (requests get in across it): the line goes again.
    if (!this.kv.get<Meta>('meta')) return listings.remove('session', view.id);
    await this.ctx.storage.put('indexWrittenAt', Date.now());
  }

  /** Every slice, the first one included, starts intervalMs after it is scheduled. */
  private scheduleSlice(meta: Pick<Meta, 'intervalMs'>): Promise<void> {
    return this.ctx.storage.setAlarm(Date.now() + meta.intervalMs);
  }

  async view(): Promise<SessionView | null> {
    const meta = await this.meta();
    if (!meta) return null;
    const got = await this.ctx.storage.get(['config', 'progress', 'curve', 'adjustments', 'pace']);
    const progress = got.get('progress') as Progress;
    return {
      ...meta,
      failure: meta.failure ?? null,
      epoch: progress.epoch,
      rowsDone: progress.cursor?.rowsDone ?? 0,
      pace: (got.get('pace') as SlicePace | undefined) ?? null,
      config: got.get('config') as ModelConfig,
      curve: got.get('curve') as EpochRecord[],
      adjustments: got.get('adjustments') as AdjustmentMark[],
    };
  }

  /**
   * One slice: trains the mini-batches that fit the time target from the stored state, stores the
   * result, then re-arms. Never throws for a failing slice: the failure is recorded instead, because a
   * throwing alarm is retried by the platform and would fail the same way again.
   */
  override async alarm(): Promise<void> {
    const owed = this.kv.get<DeletionOwed>(DELETION_OWED);
    if (owed) return this.settleDeletion(owed);
    const first = await this.meta();
    if (!first || first.status !== 'running') return;
    let slice: SliceResult;
    let meta: Meta;
    let pace: SlicePace;
    let status: SessionStatus;
    let started: number;
    try {
      await initBackend();
      const split = await loadSplit(first.dataset, this.blobs, first.datasetVersion);
      // The awaits above let requests in: a pause, an adjustment or a deletion may have landed. From here
      // to the commit nothing awaits, so nothing else runs in between.
      const now = this.kv.get<Meta>('meta');
      if (!now || now.status !== 'running') return;
      meta = now;
      // The clock as of the last I/O; read again after the commit's round-trip, it has moved past the compute.
      started = Date.now();
      const state = this.loadState();
      const epochConfig = state.cursor?.config ?? state.config;
      pace =
        this.kv.get<SlicePace>('pace') ??
        estimatedPace(sessionFloats(epochConfig, split.features, split.classes), epochConfig.batchSize);
      const batches = sliceBatches(
        pace,
        meta.sliceEpochs * batchesPerEpoch(epochConfig, split.train.rows),
        meta.sliceTargetMs,
      );
      const target = state.config.epochs;
      slice = trainSlice(state, split, { batches }, { consume: true });
      const curve = [...(this.kv.get<EpochRecord[]>('curve') ?? []), ...slice.records];
      status = slice.diverged ? 'diverged' : slice.state.epoch >= target ? 'complete' : 'running';
      const at = new Date().toISOString();
      const bad = slice.records.find((r) => !Number.isFinite(r.loss) || !Number.isFinite(r.valLoss));
      const failure: SessionFailure | null = slice.diverged
        ? {
            reason: `non-finite loss or weights in epoch ${bad?.epoch ?? slice.state.epoch + 1}`,
            epoch: state.epoch,
            at,
          }
        : null;
      const next: Meta = { ...meta, status, failure, updatedAt: at };
      // Diverged: the curve shows the epoch that did, and the last finite state stays stored.
      if (slice.diverged)
        this.ctx.storage.transactionSync(() => {
          this.kv.put('curve', curve);
          this.kv.put('meta', next);
        });
      else this.storeState(slice.state, { curve, meta: next });
    } catch (err) {
      await this.fail(err);
      return;
    }
    // A storage round-trip: the slice is durable, and the clock has advanced across its compute.
    await this.ctx.storage.sync();
    // Deleted while the slice was being committed: nothing more is written, the alarm is not re-armed.
    if (!this.kv.get<Meta>('meta')) return;
    const ms = Date.now() - started;
    const paced = measuredPace(pace, slice.batches, ms);
    this.recordSliceTime(slice, ms, paced);
    if (status === 'running') await this.scheduleSlice(meta);
    await this.refreshIndex(status !== 'running');
    const last = slice.records.at(-1);
    log(status === 'diverged' ? 'session_diverged' : 'session_slice', {
      sessionId: meta.id,
      epoch: slice.state.epoch,
      rowsDone: slice.state.cursor?.rowsDone ?? 0,
      batches: slice.batches,
      ms,
      msPerBatch: paced.msPerBatch,
      clock: paced.source,
      status,
      valAccuracy: last?.valAccuracy ?? null,
      learningRate: last?.learningRate ?? null,
    });
  }

  /**
   * Gives the slice's epochs their share of its measured time (see shareSliceTime), with the pace, in one
   * transaction. The time is known only after the commit, so this is a second, small write: lost if the
   * object is reset in between, which leaves those epochs short of one slice's time and nothing else.
   */
  private recordSliceTime(slice: SliceResult, ms: number, pace: SlicePace): void {
    const kv = this.kv;
    this.ctx.storage.transactionSync(() => {
      const curve = kv.get<EpochRecord[]>('curve') ?? [];
      const progress = kv.get<Progress>('progress');
      // A diverged slice stored its curve but not its state: the stored cursor is an earlier slice's.
      const cursor = slice.diverged ? null : (progress?.cursor ?? null);
      const mine = slice.records.length;
      const shared = shareSliceTime(slice, ms, curve.slice(curve.length - mine), cursor?.ms ?? null);
      if (mine) kv.put('curve', [...curve.slice(0, curve.length - mine), ...shared.records]);
      if (progress && cursor && shared.cursorMs !== null)
        kv.put('progress', { ...progress, cursor: { ...cursor, ms: shared.cursorMs } } satisfies Progress);
      kv.put('pace', pace);
    });
  }

  /** Records a failed slice as the session's end (once: a session that is no longer running stays as it is). */
  private async fail(err: unknown): Promise<void> {
    const meta = this.kv.get<Meta>('meta');
    if (!meta || meta.status !== 'running') return;
    const reason =
      err instanceof UnknownDatasetError
        ? `the dataset is gone: ${errorMessage(err)}`
        : `a slice failed: ${errorMessage(err)}`;
    const epoch = this.kv.get<Progress>('progress')?.epoch ?? 0;
    const at = new Date().toISOString();
    this.kv.put('meta', { ...meta, status: 'failed', failure: { reason, epoch, at }, updatedAt: at } satisfies Meta);
    await this.ctx.storage.deleteAlarm();
    await this.refreshIndex(true);
    logError('session_failed', { sessionId: meta.id, epoch, reason });
  }

  /** The listing is secondary to the session's own state: a failed refresh is logged, and the next one catches up. */
  private async refreshIndex(force: boolean): Promise<void> {
    try {
      await this.writeIndex(force);
    } catch (err) {
      logError('session_index_failed', { sessionId: this.ctx.id.toString(), error: errorMessage(err) });
    }
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
      const progress = (await this.ctx.storage.get<Progress>('progress'))!;
      const { epoch } = progress;
      // An epoch in progress finishes with the values it began with: the change applies from the next.
      const from = epoch + (progress.cursor ? 2 : 1);
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
      marks.push({ epoch: from, changes, previous, at: new Date().toISOString() });
      const status: SessionStatus = meta.status === 'complete' ? 'running' : meta.status;
      await this.ctx.storage.put({
        config: parsed.data,
        adjustments: marks,
        meta: { ...meta, status, updatedAt: new Date().toISOString() },
      });
      if (meta.status === 'complete') await this.scheduleSlice(meta);
      await this.writeIndex(true);
      log('session_adjust', { sessionId: meta.id, fromEpoch: from, changes });
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
      // Asking twice is harmless; a complete or diverged session has nothing to pause or resume. A failed
      // one may be resumed (once its cause is fixed): it continues from its last stored slice.
      if (meta.status === to) return ok((await this.view())!);
      const from: SessionStatus[] = run ? ['paused', 'failed'] : ['running'];
      if (!from.includes(meta.status)) return refuse('conflict', `the session is ${meta.status}`);
      await this.ctx.storage.put('meta', {
        ...meta,
        status: to,
        failure: run ? null : (meta.failure ?? null),
        updatedAt: new Date().toISOString(),
      } satisfies Meta);
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
      if (meta.status === 'failed')
        return refuse('conflict', `the session failed (${meta.failure?.reason ?? 'unknown'}); resume it first`);
      const curve = (await this.ctx.storage.get<EpochRecord[]>('curve')) ?? [];
      const last = curve.at(-1);
      if (!last) return refuse('conflict', 'nothing trained yet');
      const state = this.loadState();
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

  async remove(): Promise<Result<null>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const meta = this.kv.get<Meta>('meta');
      if (!meta) {
        // Asked again while the first deletion still owes something (its answer lost, say): finish it.
        const owed = this.kv.get<DeletionOwed>(DELETION_OWED);
        if (!owed) return refuse('not_found', 'no such session');
        await this.settleDeletion(owed);
        return ok(null);
      }
      const owed: DeletionOwed = { id: meta.id, dataset: meta.dataset };
      // The retry alarm (it replaces a pending slice's) is set with no await before the transaction: writes with
      // no await between them are coalesced into one commit, so an object reset while settling still has both.
      const armed = this.ctx.storage.setAlarm(Date.now() + DELETION_RETRY_MS);
      // One transaction: the state goes and the debt is recorded together, so a crash leaves one or the other.
      this.ctx.storage.transactionSync(() => {
        for (const [key] of this.kv.list()) this.kv.delete(key);
        this.kv.put(DELETION_OWED, owed);
      });
      await armed;
      await this.settleDeletion(owed);
      log('session_deleted', { sessionId: meta.id, model: meta.model, dataset: meta.dataset, status: meta.status });
      return ok(null);
    });
  }

  /**
   * Drops the listing line and releases the dataset pin (both idempotent), then the debt and its alarm; on a
   * failure both stay and the alarm tries again.
   */
  private async settleDeletion(owed: DeletionOwed): Promise<void> {
    try {
      await new D1Listings(this.env.DB).remove('session', owed.id);
      if (!isEmbeddedDataset(owed.dataset)) await catalogStub(this.env.DATASET_CATALOG).release(sessionHolder(owed.id));
      this.kv.delete(DELETION_OWED);
      await this.ctx.storage.deleteAlarm();
    } catch (err) {
      logError('session_deletion_deferred', { sessionId: owed.id, reason: errorMessage(err) });
      await this.ctx.storage.setAlarm(Date.now() + DELETION_RETRY_MS);
    }
  }

  /** As a study's candidate: weights under an immutable KV key first, scored on the test rows as served. */
  private async candidate(
    meta: Meta,
    state: SessionState,
    last: EpochRecord,
  ): Promise<{ candidate: VersionCandidate; rows: ChallengerRows }> {
    await initBackend();
    const split = await loadSplit(meta.dataset, this.blobs, meta.datasetVersion);
    const weightsKey = keys.trialWeights(
      meta.id,
      state.epoch,
      `${SESSION_WEIGHTS_TAG}${crypto.randomUUID().slice(0, 8)}`,
    );
    await this.store.put(weightsKey, encodeWeights(state.weights));
    return buildCandidate(
      {
        model: meta.model,
        studyId: meta.id,
        trial: state.epoch,
        dataset: meta.dataset,
        datasetVersion: meta.datasetVersion,
        config: state.config,
        weights: state.weights,
        weightsKey,
        validation: last,
      },
      split,
    );
  }
}
