/**
 * One Durable Object per study. It proposes each trial's configuration when it dispatches the trial (TPE
 * needs the results accepted so far; samplers that plan ahead give their pure plan's entry), dispatches to
 * the trial queue (at most `parallelism` at a time), accepts each trial's result exactly once, keeps the leaderboard, and at the
 * end promotes the best trial through the model's registry, once.
 *
 * State transitions run inside blockConcurrencyWhile: they await other objects, and no second report or
 * finalisation may interleave with them. Storage per kind of data (docs/platform.md):
 * - this object's storage is the truth (slots, records, rungs, promotion), committed first;
 * - the study's listing line lives in D1 (strongly consistent), refreshed on every state change;
 * - KV gets the write-once trial records and a coalesced study aggregate, published from the committed
 *   state by guarded writes: a failed write (KV answers 429 to a second write of a key within a second)
 *   never fails the transition; the alarm retries it at least a second later, with the same bytes.
 */
import { DurableObject } from 'cloudflare:workers';
import { resolveConfig } from '../../models/config';
import { CorruptWeightsError, decodeWeights } from '../../models/weights-codec';
import { majorityBaseline } from '../../models/dataset';
import { isEmbeddedDataset, loadSplit, studyHolder } from '../../shared/datasets';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { log, logError } from '../../shared/log';
import { KvStore } from '../../shared/storage/kv-store';
import { coordinatorKeys, keys } from '../../shared/storage/keys';
import type { StudyHeadline } from '../../shared/storage/headlines';
import { D1Listings } from '../../shared/storage/listings';
import { ashaDecision, ashaRungs, DEFAULT_ASHA, type RungDecision } from '../../shared/study/asha';
import { ChampionMovedError, promoteThroughGuard, type ChallengerRows } from '../../shared/study/champion';
import { DEFAULT_SIGNIFICANCE } from '../../shared/study/compare';
import { bestPromotable, ensemblePool, progressOf, rank } from '../../shared/study/leaderboard';
import { createProposer, prunerOf, samplerOf, searchLabel, type Proposer } from '../../shared/study/search';
import { buildCandidate } from '../../shared/study/candidate';
import { failedResult, type TrialMessage, type TrialResult } from '../../shared/study/trial';
import {
  isFinished,
  type PlannedTrial,
  type EnsembleReport,
  type PromotionOutcome,
  type StudySpec,
  type StudyView,
  type TrialRecord,
  type TrialState,
  type VersionCandidate,
} from '../../shared/study/types';
import { initBackend } from '../../shared/tf/backend';
import { ok, refuse, type Result, type RungResult, type StudyCoordinatorContract, type TrialTask } from './contracts';
import { catalogStub, registryStub, studyStub } from './stubs';

interface Slot {
  trial: number;
  state: TrialState;
  dispatches: number;
  dispatchedAt: number | null;
  /** When the current dispatch began running (the consumer picked it up); null while it waits in the queue. */
  startedAt?: number | null;
}

/** A KV write owed to the record or aggregate: when it was last attempted (null: never). */
interface Pending {
  attemptAt: number | null;
}

/** Trial numbers in the order their results were accepted: what TPE's proposals depend on. */
const ORDER_KEY = 'order';
const LEADERBOARD_SIZE = 10;
/**
 * KV takes one write per key per second: a key is written again only this long after the last attempt
 * (with headroom, since this object's clock stands still while it computes).
 */
export const KV_REWRITE_MS = 1100;
/** How many times a stalled trial is dispatched again before it is recorded as failed. */
const MAX_DISPATCHES = 3;
/**
 * A dispatched trial nobody started within this long is presumed lost by the queue (at-least-once
 * delivery makes that rare); a backlog shorter than this is waited out, never re-dispatched.
 */
const QUEUE_LOSS_MS = 3600_000;
/** A release that failed (the registry or the catalog did not answer) is tried again this long after. */
const RELEASE_RETRY_MS = 5_000;
/** Set with the outcome, cleared once the model's study slot and the dataset pin are released. */
const RELEASE_OWED = 'releaseOwed';

export class StudyCoordinator extends DurableObject<Env> implements StudyCoordinatorContract {
  private get store() {
    return new KvStore(this.env.KV);
  }

  private get listings() {
    return new D1Listings(this.env.DB);
  }

  private async spec(): Promise<StudySpec | null> {
    return (await this.ctx.storage.get<StudySpec>('spec')) ?? null;
  }

  private async slots(): Promise<Slot[]> {
    return [...(await this.ctx.storage.list<Slot>({ prefix: coordinatorKeys.slotPrefix })).values()];
  }

  async records(): Promise<TrialRecord[]> {
    return [...(await this.ctx.storage.list<TrialRecord>({ prefix: coordinatorKeys.recordPrefix })).values()];
  }

  /** Plans and launches the study. Idempotent: a second start returns the existing study. */
  async start(spec: StudySpec): Promise<StudyView> {
    return this.ctx.blockConcurrencyWhile(async () => {
      if (await this.spec()) return this.view();
      const incumbents = spec.from ? await studyStub(this.env.STUDIES, spec.from).records() : [];
      if (spec.from) await this.ctx.storage.put('incumbents', incumbents);
      const proposer = createProposer(spec, incumbents);
      // Samplers that plan ahead are planned now (an exhausted discrete space shortens the study); TPE
      // proposes each trial when it is dispatched.
      const entries: Record<string, unknown> = { spec, status: 'running', [ORDER_KEY]: [] };
      let trials = spec.trials;
      if (samplerOf(spec) !== 'tpe') {
        for (let n = 0; n < spec.trials; n++) {
          const p = proposer.propose(n, { finished: [], running: [] });
          if (!p) {
            trials = n;
            break;
          }
          entries[coordinatorKeys.planned(n)] = p;
        }
      }
      for (let n = 0; n < trials; n++)
        entries[coordinatorKeys.slot(n)] = {
          trial: n,
          state: 'pending',
          dispatches: 0,
          dispatchedAt: null,
        } satisfies Slot;
      await this.ctx.storage.put(entries);
      log('study_start', {
        studyId: spec.id,
        model: spec.model,
        search: searchLabel(spec),
        trials,
        seed: spec.seed,
        origin: spec.origin,
      });
      await this.dispatch();
      await this.ctx.storage.put({ staleCheckAt: Date.now() + this.staleMs(spec), aggregate: { attemptAt: null } });
      await this.afterChange();
      return this.view();
    });
  }

  /**
   * The trial function starts running trial `n`: the stalled-trial timer counts from now (a trial that
   * waited in a queue backlog has not used any of its budget). Returns what it needs to run it.
   */
  async begin(n: number): Promise<TrialTask | null> {
    const task = await this.trialTask(n);
    if (!task || task.finished) return task;
    const slot = (await this.ctx.storage.get<Slot>(coordinatorKeys.slot(n)))!;
    await this.ctx.storage.put(coordinatorKeys.slot(n), { ...slot, startedAt: Date.now() } satisfies Slot);
    return task;
  }

  /** What the trial function needs to run trial `n`. */
  async trialTask(n: number): Promise<TrialTask | null> {
    const spec = await this.spec();
    const slot = await this.ctx.storage.get<Slot>(coordinatorKeys.slot(n));
    const planned = await this.planned(n);
    if (!spec || !planned || !slot) return null;
    return { spec, planned, finished: isFinished(slot.state) };
  }

  /** Accepts a trial's result once; later reports for the same trial are ignored. */
  async report(n: number, result: TrialResult): Promise<Result<{ trial: number }>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const spec = await this.spec();
      const slot = await this.ctx.storage.get<Slot>(coordinatorKeys.slot(n));
      const planned = await this.planned(n);
      if (!spec || !slot || !planned) return refuse('not_found', `no trial ${n} in this study`);
      if (isFinished(slot.state)) return refuse('conflict', `trial ${n} already has a result (${slot.state})`);
      const record: TrialRecord = {
        studyId: spec.id,
        model: spec.model,
        trial: n,
        source: planned.source,
        ...(planned.basis ? { basis: planned.basis } : {}),
        params: planned.params,
        config: planned.config,
        seed: planned.seed,
        ...result,
        accepted: (await this.order()).length,
      };
      // Committed here first, with the KV write it owes: the KV record is only ever written from this
      // committed copy, so a retry after a crash writes the same bytes.
      await this.commitRecord(slot, record);
      log('trial_end', {
        studyId: spec.id,
        trial: n,
        status: record.status,
        reason: record.reason,
        valAccuracy: record.final?.valAccuracy ?? null,
        epochs: record.history.length,
        attempts: record.attempts,
      });
      await this.dispatch();
      if ((await this.slots()).every((s) => isFinished(s.state))) await this.finalize();
      await this.afterChange();
      return ok({ trial: n });
    });
  }

  /**
   * ASHA: trial `n` reached the rung at `epoch` with `valAccuracy`; answers whether it goes on (see
   * shared/study/asha.ts for the rule). The first answer per trial and rung is stored and repeated to a
   * retried attempt, so a trial's fate at a rung is decided once.
   */
  async rung(n: number, epoch: number, valAccuracy: number): Promise<RungDecision> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const spec = await this.spec();
      const slot = await this.ctx.storage.get<Slot>(coordinatorKeys.slot(n));
      const settings = spec ? prunerOf(spec) : null;
      if (!spec || !slot || !settings) return 'continue';
      // Its result is already accepted (a duplicate delivery): the rest of this run would be thrown away.
      if (isFinished(slot.state)) return 'stop';
      if (!ashaRungs(settings, spec.budget.epochs).includes(epoch)) return 'continue';
      const results = (await this.ctx.storage.get<RungResult[]>(coordinatorKeys.rung(epoch))) ?? [];
      const earlier = results.find((r) => r.trial === n);
      if (earlier) return earlier.decision;
      const decision = ashaDecision(
        valAccuracy,
        results.map((r) => r.valAccuracy),
        settings.reductionFactor,
      );
      results.push({ trial: n, valAccuracy, decision });
      await this.ctx.storage.put(coordinatorKeys.rung(epoch), results);
      log('trial_rung', { studyId: spec.id, trial: n, epoch, valAccuracy, decision, atRung: results.length });
      return decision;
    });
  }

  /** Every rung's results in arrival order, keyed by the rung's epoch. */
  async rungs(): Promise<Record<string, RungResult[]>> {
    const out: Record<string, RungResult[]> = {};
    for (const [k, v] of await this.ctx.storage.list<RungResult[]>({ prefix: coordinatorKeys.rungPrefix }))
      out[String(Number(k.slice(5)))] = v;
    return out;
  }

  /** Sends pending trials to the queue until `parallelism` are in flight. */
  private async dispatch(): Promise<void> {
    const spec = await this.spec();
    if (!spec) return;
    const slots = await this.slots();
    const free = spec.parallelism - slots.filter((s) => s.state === 'running').length;
    let next = slots.filter((s) => s.state === 'pending').slice(0, Math.max(0, free));
    if (next.length === 0) return;
    next = await this.proposeFor(spec, next, slots);
    if (next.length === 0) return;
    const now = Date.now();
    const updates: Record<string, Slot> = {};
    for (const s of next)
      updates[coordinatorKeys.slot(s.trial)] = {
        ...s,
        state: 'running',
        dispatches: s.dispatches + 1,
        dispatchedAt: now,
        startedAt: null,
      };
    // Sent before the slots say so: a reset in between sends again later (a duplicate message, which the
    // coordinator ignores), instead of leaving a trial marked running that no message will ever start.
    await this.env.TRIALS.sendBatch(
      next.map((s) => ({ body: { studyId: spec.id, trial: s.trial } satisfies TrialMessage })),
    );
    await this.ctx.storage.put(updates);
  }

  /**
   * Makes sure each trial about to be dispatched has its configuration. A TPE trial gets it now, from the
   * results accepted so far (in acceptance order) and the running trials, including the ones proposed
   * earlier in this same batch (the constant liar). Proposals are stored once: a re-dispatched trial keeps
   * its configuration. A trial the sampler has nothing new for (an exhausted space) is recorded failed.
   */
  private async proposeFor(spec: StudySpec, next: Slot[], slots: Slot[]): Promise<Slot[]> {
    let proposer: Proposer | null = null;
    let finished: TrialRecord[] | null = null;
    const running: PlannedTrial['params'][] = [];
    for (const s of slots) {
      if (s.state !== 'running') continue;
      const p = await this.planned(s.trial);
      if (p) running.push(p.params);
    }
    const ready: Slot[] = [];
    for (const s of next) {
      const existing = await this.planned(s.trial);
      if (existing) {
        ready.push(s);
        continue;
      }
      proposer ??= createProposer(spec, (await this.ctx.storage.get<TrialRecord[]>('incumbents')) ?? []);
      if (!finished) {
        const byTrial = new Map((await this.records()).map((r) => [r.trial, r]));
        finished = (await this.order()).map((n) => byTrial.get(n)).filter((r): r is TrialRecord => !!r);
      }
      const p = proposer.propose(s.trial, { finished, running });
      if (!p) {
        await this.recordFailure(spec, s, 'the sampler has no new configuration left');
        continue;
      }
      await this.ctx.storage.put(coordinatorKeys.planned(s.trial), p);
      running.push(p.params);
      ready.push(s);
    }
    return ready;
  }

  /** A trial's plan: its own key, or the whole-plan array of studies started before proposals moved to dispatch. */
  private async planned(n: number): Promise<PlannedTrial | null> {
    const own = await this.ctx.storage.get<PlannedTrial>(coordinatorKeys.planned(n));
    if (own) return own;
    return (await this.ctx.storage.get<PlannedTrial[]>('plan'))?.[n] ?? null;
  }

  private async order(): Promise<number[]> {
    return (await this.ctx.storage.get<number[]>(ORDER_KEY)) ?? [];
  }

  /** Records a trial that ended without a result of its own (lost messages, nothing to propose). */
  private async recordFailure(spec: StudySpec, s: Slot, reason: string): Promise<void> {
    const planned = await this.planned(s.trial);
    const record: TrialRecord = {
      studyId: spec.id,
      model: spec.model,
      trial: s.trial,
      source: planned?.source ?? samplerOf(spec),
      params: planned?.params ?? {},
      // Nothing was proposed: the record shows the defaults it would have started from.
      config: planned?.config ?? resolveConfig({ epochs: spec.budget.epochs }),
      seed: planned?.seed ?? 0,
      ...failedResult(s.dispatches, reason),
      accepted: (await this.order()).length,
    };
    await this.commitRecord(s, record);
  }

  private staleMs(spec: StudySpec): number {
    // A trial that has not reported within three budgets (plus queue latency) is presumed lost.
    return spec.budget.maxSeconds * 3000 + 120_000;
  }

  /**
   * Finishes a study left behind: re-dispatches trials whose isolate died mid-run or whose message was
   * lost (bounded), finalises when every trial has ended, and republishes what KV and the listing still
   * owe (a complete study too). Safe to call any number of times.
   */
  async resume(): Promise<StudyView | null> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const spec = await this.spec();
      if (!spec) return null;
      if ((await this.ctx.storage.get('status')) !== 'complete') {
        await this.requeueStalled(spec);
        await this.dispatch();
        if ((await this.slots()).every((s) => isFinished(s.state))) await this.finalize();
      } else if (await this.ctx.storage.get<boolean>(RELEASE_OWED)) await this.releaseHolds(spec);
      await this.ctx.storage.put('listingDirty', true);
      await this.afterChange();
      return this.view();
    });
  }

  /**
   * A running trial is stalled when it started more than staleMs ago without reporting (its isolate
   * died), or was never picked up within QUEUE_LOSS_MS (its message was lost). Time spent waiting in
   * the queue never counts against the trial's budget.
   */
  private async requeueStalled(spec: StudySpec): Promise<void> {
    const now = Date.now();
    for (const s of await this.slots()) {
      if (s.state !== 'running' || s.dispatchedAt === null) continue;
      const started = s.startedAt ?? null;
      const stalled = started !== null ? now - started >= this.staleMs(spec) : now - s.dispatchedAt >= QUEUE_LOSS_MS;
      if (!stalled) continue;
      if (s.dispatches >= MAX_DISPATCHES) {
        const reason =
          started !== null
            ? `no result after ${s.dispatches} dispatches`
            : `never started after ${s.dispatches} dispatches (the queue lost its messages)`;
        await this.recordFailure(spec, s, reason);
      } else {
        await this.ctx.storage.put(coordinatorKeys.slot(s.trial), { ...s, state: 'pending' } satisfies Slot);
      }
    }
  }

  /** The record, its slot's end state and the KV write it owes, in one atomic batch. */
  private async commitRecord(slot: Slot, record: TrialRecord): Promise<void> {
    await this.ctx.storage.put({
      [coordinatorKeys.record(record.trial)]: record,
      [coordinatorKeys.slot(record.trial)]: { ...slot, state: record.status } satisfies Slot,
      [coordinatorKeys.unpublished(record.trial)]: { attemptAt: null } satisfies Pending,
      [ORDER_KEY]: [...(await this.order()), record.trial],
    });
  }

  override async alarm(): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      const spec = await this.spec();
      if (!spec) return;
      const complete = (await this.ctx.storage.get('status')) === 'complete';
      if (complete && (await this.ctx.storage.get<boolean>(RELEASE_OWED))) await this.releaseHolds(spec);
      const staleCheckAt = (await this.ctx.storage.get<number>('staleCheckAt')) ?? 0;
      if (!complete) {
        if (Date.now() >= staleCheckAt) {
          await this.requeueStalled(spec);
          await this.ctx.storage.put({ staleCheckAt: Date.now() + this.staleMs(spec) });
        }
        // Whatever a reset interrupted: trials left pending with room to run, a finalisation not done.
        await this.dispatch();
        if ((await this.slots()).every((s) => isFinished(s.state))) await this.finalize();
        await this.ctx.storage.put('listingDirty', true);
      }
      await this.afterChange();
    });
  }

  /**
   * After every state change (inside the transition): the listing line, then what KV is owed, then the
   * next alarm. Nothing here throws: a failed write stays owed and the alarm retries it.
   */
  private async afterChange(): Promise<void> {
    await this.ctx.storage.put({ aggregateDirty: true });
    await this.publishListing();
    await this.publishKv();
    await this.armAlarm();
  }

  private async publishListing(): Promise<void> {
    const v = await this.view();
    try {
      await this.listings.upsert('study', v.id, {
        createdAt: v.spec.createdAt,
        status: v.status,
        dataset: v.spec.dataset,
        headline: {
          model: v.spec.model,
          dataset: v.spec.dataset,
          strategy: searchLabel(v.spec),
          status: v.status,
          createdAt: v.spec.createdAt,
          total: v.progress.total,
          finished: v.progress.complete + v.progress.pruned + v.progress.diverged + v.progress.failed,
          bestValAccuracy: v.best?.valAccuracy ?? null,
          promotedVersion: v.promotion?.version ?? null,
        } satisfies StudyHeadline,
      });
      await this.ctx.storage.delete('listingDirty');
    } catch (err) {
      await this.ctx.storage.put('listingDirty', true);
      logError('listing_write_failed', { studyId: v.id, reason: errorText(err) });
    }
  }

  /**
   * Writes the trial records and the aggregate KV is owed. A record is written from its committed copy
   * only; each key at most once per KV_REWRITE_MS (the attempt is stamped before the write, so a crash
   * mid-write cannot lead to a second write within the second).
   */
  private async publishKv(): Promise<void> {
    const spec = (await this.spec())!;
    const now = Date.now();
    for (const [k, pending] of await this.ctx.storage.list<Pending>({ prefix: coordinatorKeys.unpublishedPrefix })) {
      if (pending.attemptAt !== null && now - pending.attemptAt < KV_REWRITE_MS) continue;
      const n = Number(k.slice(coordinatorKeys.unpublishedPrefix.length));
      const record = await this.ctx.storage.get<TrialRecord>(coordinatorKeys.record(n));
      await this.ctx.storage.put(k, { attemptAt: now } satisfies Pending);
      try {
        await this.store.put(keys.trialRecord(spec.id, n), JSON.stringify(record));
        await this.ctx.storage.delete(k);
      } catch (err) {
        logError('kv_write_deferred', { studyId: spec.id, key: keys.trialRecord(spec.id, n), reason: errorText(err) });
      }
    }
    const aggregate = (await this.ctx.storage.get<Pending>('aggregate')) ?? { attemptAt: null };
    if (!(await this.ctx.storage.get<boolean>('aggregateDirty'))) return;
    if (aggregate.attemptAt !== null && now - aggregate.attemptAt < KV_REWRITE_MS) return;
    const v = await this.view();
    await this.ctx.storage.put({ aggregate: { attemptAt: now } satisfies Pending, aggregateDirty: false });
    try {
      await this.store.put(keys.studyAggregate(v.id), JSON.stringify(v), {
        metadata: { status: v.status, updatedAt: v.updatedAt },
      });
    } catch (err) {
      await this.ctx.storage.put('aggregateDirty', true);
      logError('kv_write_deferred', { studyId: v.id, key: keys.studyAggregate(v.id), reason: errorText(err) });
    }
  }

  /** One alarm for everything owed: a KV write (a second after its last attempt) and the stalled-trial check. */
  private async armAlarm(): Promise<void> {
    const owed: number[] = [];
    for (const p of (await this.ctx.storage.list<Pending>({ prefix: coordinatorKeys.unpublishedPrefix })).values())
      owed.push((p.attemptAt ?? 0) + KV_REWRITE_MS);
    if (await this.ctx.storage.get<boolean>('aggregateDirty'))
      owed.push(((await this.ctx.storage.get<Pending>('aggregate'))?.attemptAt ?? 0) + KV_REWRITE_MS);
    if (await this.ctx.storage.get<boolean>('listingDirty')) owed.push(Date.now() + KV_REWRITE_MS);
    if (await this.ctx.storage.get<boolean>(RELEASE_OWED)) owed.push(Date.now() + RELEASE_RETRY_MS);
    if ((await this.ctx.storage.get('status')) !== 'complete') {
      owed.push((await this.ctx.storage.get<number>('staleCheckAt')) ?? Date.now());
      // Left behind by a reset: every trial finished but no finalisation, or pending trials with room.
      const spec = (await this.spec())!;
      const slots = await this.slots();
      const running = slots.filter((s) => s.state === 'running').length;
      if (
        slots.every((s) => isFinished(s.state)) ||
        (slots.some((s) => s.state === 'pending') && running < spec.parallelism)
      )
        owed.push(Date.now() + KV_REWRITE_MS);
    }
    if (owed.length === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const at = Math.max(Date.now() + 10, Math.min(...owed));
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at || current < Date.now()) await this.ctx.storage.setAlarm(at);
  }

  /** Whether KV holds every trial record and the latest aggregate (for tests and the chaos run). */
  async published(): Promise<boolean> {
    const owed = await this.ctx.storage.list({ prefix: coordinatorKeys.unpublishedPrefix });
    return owed.size === 0 && !(await this.ctx.storage.get<boolean>('aggregateDirty'));
  }

  /**
   * Picks the best complete trial, measures it on the test split, scores the champion on the same rows and
   * asks the registry to decide (shared/study/champion.ts). Once.
   */
  private async finalize(): Promise<void> {
    const spec = (await this.spec())!;
    if (await this.ctx.storage.get('promotion')) return;
    const records = await this.records();
    const registry = registryStub(this.env.MODELS, spec.model);
    let decided: PromotionOutcome | null = null;
    let candidate: VersionCandidate | null = null;
    let ensemble: EnsembleReport | null = null;
    let belowBaseline: string | null = null;
    const refused: PromotionOutcome['refused'] = [];
    // Candidates in rank order: a candidate whose stored weights are unreadable is refused, not promoted.
    let pool = records;
    for (;;) {
      const best = bestPromotable(pool);
      if (!best) break;
      const built = await this.candidate(spec, best, pool).catch((err: unknown) => {
        if (err instanceof CorruptWeightsError || err instanceof MissingWeightsError) return err;
        throw err;
      });
      if (built instanceof Error) {
        refused.push({ trial: best.trial, reason: built.message });
        log('promotion_rejected', { studyId: spec.id, trial: best.trial, reason: built.message });
        pool = pool.filter((r) => r.trial !== best.trial);
        continue;
      }
      candidate = built.candidate;
      ensemble = built.ensemble;
      // A model no better than always answering the most frequent class has learnt nothing from the
      // features: never promoted, even with no champion to beat (the study says so).
      const { split } = built.rows;
      const baseline = majorityBaseline(split.validation.y, split.classes);
      if (best.final!.valAccuracy <= baseline.accuracy) {
        belowBaseline = `the best trial (${best.trial}) reaches a validation accuracy of ${best.final!.valAccuracy.toFixed(4)}, no better than the majority-class baseline ${baseline.accuracy.toFixed(4)} (always answering "${split.classNames[baseline.classIndex]}")`;
        log('promotion_below_baseline', { studyId: spec.id, trial: best.trial, baseline: baseline.accuracy });
        break;
      }
      try {
        decided = await promoteThroughGuard(registry, this.store, built.candidate, built.rows, {
          margin: spec.margin,
          significance: spec.significance ?? DEFAULT_SIGNIFICANCE,
        });
      } catch (err) {
        // Promotions kept landing while the champion was scored: the alarm's resume() finalises again later.
        if (!(err instanceof ChampionMovedError)) throw err;
        log('promotion_retry_later', { studyId: spec.id, reason: err.message });
        return;
      }
      break;
    }
    const outcome: PromotionOutcome = decided
      ? { ...decided, refused, ...advice(decided, spec.id), ...(ensemble ? { ensemble } : {}) }
      : {
          promoted: false,
          refused,
          version: null,
          reason: belowBaseline
            ? belowBaseline
            : refused.length
              ? `no promotable trial (${refused.map((r) => `trial ${r.trial}: ${r.reason}`).join('; ')})`
              : 'no trial completed',
          candidate: null,
          champion: null,
          comparison: null,
          guard: null,
          decidedAt: new Date().toISOString(),
        };
    // A declined candidate stays at hand for an explicit promotion (promoteExplicitly). The releases
    // are owed from the same write, so a failure after it cannot leave the model's slot taken for good.
    await this.ctx.storage.put({
      promotion: outcome,
      status: 'complete',
      [RELEASE_OWED]: true,
      ...(candidate && !outcome.promoted ? { candidate } : {}),
    });
    log(outcome.promoted ? 'promotion' : 'promotion_declined', {
      studyId: spec.id,
      model: spec.model,
      version: outcome.version,
      reason: outcome.reason,
      candidate: outcome.candidate,
      comparison: outcome.comparison,
    });
    await this.releaseHolds(spec);
  }

  /**
   * Frees what the study held: the model's one running-study slot (else no study could start on the model
   * again, the cron's included) and its pin on the dataset version (a superseded one can then be deleted).
   * Both calls are idempotent; a failure stays owed and the alarm tries again.
   */
  private async releaseHolds(spec: StudySpec): Promise<void> {
    try {
      await registryStub(this.env.MODELS, spec.model).releaseStudy(spec.id);
      if (!isEmbeddedDataset(spec.dataset)) await catalogStub(this.env.DATASET_CATALOG).release(studyHolder(spec.id));
      await this.ctx.storage.delete(RELEASE_OWED);
    } catch (err) {
      logError('study_release_deferred', { studyId: spec.id, reason: errorText(err) });
    }
  }

  /**
   * The admin's way past a guard that declined (typically: the champion cannot read this dataset, so there
   * is nothing to compare): promotes the study's candidate through the registry, recorded as explicit.
   */
  async promoteExplicitly(): Promise<Result<PromotionOutcome>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const spec = await this.spec();
      if (!spec) return refuse('not_found', 'no such study');
      const promotion = await this.ctx.storage.get<PromotionOutcome>('promotion');
      if (!promotion) return refuse('conflict', 'the study is still running');
      if (promotion.promoted && promotion.explicit) return ok(promotion);
      if (promotion.promoted) return refuse('conflict', `the study already promoted version ${promotion.version}`);
      const candidate = await this.ctx.storage.get<VersionCandidate>('candidate');
      if (!candidate) return refuse('conflict', `nothing to promote: ${promotion.reason}`);
      const decided = await registryStub(this.env.MODELS, spec.model).promoteExplicitly(candidate, promotion);
      const outcome: PromotionOutcome = { ...decided, refused: promotion.refused };
      await this.ctx.storage.put('promotion', outcome);
      log('promotion_explicit', { studyId: spec.id, model: spec.model, version: outcome.version });
      await this.afterChange();
      return ok(outcome);
    });
  }

  /**
   * Builds the version candidate of a trial: loads and verifies its weights, and scores it on every test
   * row (its test accuracy, and its side of the paired comparison with the champion). The next best
   * complete trials of `pool` are ensemble selection's other candidates; one whose weights cannot be read
   * is left out of the ensemble (and logged), it does not stop the promotion.
   */
  private async candidate(
    spec: StudySpec,
    best: TrialRecord,
    pool: TrialRecord[],
  ): Promise<{ candidate: VersionCandidate; rows: ChallengerRows; ensemble: EnsembleReport | null }> {
    const bytes = await this.store.getBytes(best.weightsKey!);
    if (!bytes) throw new MissingWeightsError(`weights ${best.weightsKey} are missing`);
    const weights = decodeWeights(bytes);
    const others = ensemblePool(pool, best.trial);
    const members = (
      await Promise.all(
        others.map(async (r) => {
          try {
            const b = await this.store.getBytes(r.weightsKey!);
            if (!b) throw new MissingWeightsError(`weights ${r.weightsKey} are missing`);
            return { trial: r.trial, config: r.config, weightsKey: r.weightsKey!, weights: decodeWeights(b) };
          } catch (err) {
            log('ensemble_member_skipped', { studyId: spec.id, trial: r.trial, reason: errorText(err) });
            return null;
          }
        }),
      )
    ).filter((m) => m !== null);
    await initBackend();
    const split = await loadSplit(spec.dataset, new R2BlobStore(this.env.DATASETS), spec.datasetVersion);
    return buildCandidate(
      {
        model: spec.model,
        studyId: spec.id,
        trial: best.trial,
        dataset: spec.dataset,
        datasetVersion: spec.datasetVersion,
        config: best.config,
        weights,
        weightsKey: best.weightsKey!,
        validation: best.final!,
      },
      split,
      { pool: members, margin: spec.margin },
    );
  }

  async view(): Promise<StudyView> {
    const spec = (await this.spec())!;
    const slots = await this.slots();
    const ranked = rank(await this.records());
    return {
      id: spec.id,
      spec,
      status: (await this.ctx.storage.get<'running' | 'complete'>('status')) ?? 'running',
      progress: progressOf(slots.map((s) => s.state)),
      leaderboard: ranked.slice(0, LEADERBOARD_SIZE),
      best: ranked[0]?.status === 'complete' ? ranked[0] : null,
      promotion: (await this.ctx.storage.get<PromotionOutcome>('promotion')) ?? null,
      ...(prunerOf(spec) ? { rungs: await this.rungSummary(spec) } : {}),
      updatedAt: new Date().toISOString(),
    };
  }

  private async rungSummary(spec: StudySpec): Promise<NonNullable<StudyView['rungs']>> {
    const stored = await this.rungs();
    return ashaRungs(prunerOf(spec) ?? DEFAULT_ASHA, spec.budget.epochs).map((epoch) => {
      const results = stored[String(epoch)] ?? [];
      return { epoch, reported: results.length, continued: results.filter((r) => r.decision === 'continue').length };
    });
  }

  /** null when this object holds no study (the id was never started). */
  async maybeView(): Promise<StudyView | null> {
    return (await this.spec()) ? this.view() : null;
  }
}

class MissingWeightsError extends Error {}

/** A champion that cannot be compared is kept; the study says how to promote over it if that is wanted. */
function advice(outcome: PromotionOutcome, studyId: string): Pick<PromotionOutcome, 'advice'> {
  if (outcome.promoted || outcome.comparison?.comparable !== false) return {};
  return {
    advice: `Keep the champion (nothing to do), or promote this study's best explicitly: POST /v1/studies/${studyId}/promote (admin)`,
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
