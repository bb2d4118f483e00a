/**
 * The trial function's work, independent of the queue: train one planned configuration under the
 * study's budget and store its weights. Returns the result the coordinator turns into the record.
 */
import { encodeWeights } from '../../models/weights-codec';
import { train, type EpochRecord } from '../../models/train';
import { loadSplit } from '../datasets';
import { keys } from '../storage/keys';
import type { BlobStore } from '../storage/blob-store';
import type { Store } from '../storage/store';
import { initBackend } from '../tf/backend';
import { ashaRungs, type RungDecision } from './asha';
import { prunerOf } from './search';
import type { PlannedTrial, StudySpec, TrialRecord } from './types';

export interface TrialMessage {
  studyId: string;
  trial: number;
}

/** The part of a TrialRecord the trial function produces; the coordinator adds study, config and seed. */
export type TrialResult = Omit<TrialRecord, 'studyId' | 'model' | 'trial' | 'source' | 'params' | 'config' | 'seed'>;

export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

export interface TrialContext {
  store: Store;
  /** Where stored dataset versions live (R2). */
  blobs: BlobStore;
  attempt: number;
  /** Whether the study's test-only fault switch may act (ALLOW_FAULT_INJECTION). */
  faultsAllowed: boolean;
  /** Asks the coordinator whether the trial goes on past a rung (the `asha` strategy). */
  rung?: (epoch: number, valAccuracy: number) => Promise<RungDecision>;
}

export class TrialTimeout extends Error {
  override name = 'TrialTimeout';
}

/** Grace beyond the budget: the budget is checked between epochs, so one epoch may overrun it. */
export function trialDeadlineMs(spec: StudySpec): number {
  return spec.budget.maxSeconds * 1500 + 2000;
}

/**
 * Runs the trial under a hard deadline. A trial that hangs (a stuck await) fails with TrialTimeout and
 * is retried like any failure; one that spins synchronously is stopped by the platform's CPU limit, and
 * its message reaches the dead-letter queue after the retries.
 */
export async function runTrial(spec: StudySpec, planned: PlannedTrial, ctx: TrialContext): Promise<TrialResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new TrialTimeout(`trial ${planned.trial} exceeded its deadline of ${trialDeadlineMs(spec) / 1000} s`)),
      trialDeadlineMs(spec),
    );
  });
  try {
    return await Promise.race([trainTrial(spec, planned, ctx), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function trainTrial(spec: StudySpec, planned: PlannedTrial, ctx: TrialContext): Promise<TrialResult> {
  const faults = ctx.faultsAllowed ? spec.faults : null;
  if (faults?.throwOnTrials.includes(planned.trial)) {
    throw new InjectedFault(`injected fault on trial ${planned.trial} (attempt ${ctx.attempt})`);
  }
  if (faults?.stallOnTrials.includes(planned.trial)) await new Promise<never>(() => {});
  const backend = await initBackend();
  const split = await loadSplit(spec.dataset, ctx.blobs, spec.datasetVersion);
  const config = { ...planned.config, epochs: spec.budget.epochs };
  const result = await train(config, split, planned.seed, {
    maxSeconds: spec.budget.maxSeconds,
    checkpoint: rungCheckpoint(spec, ctx),
  });
  const pruned = result.status === 'complete' && result.stopReason === 'pruned';
  let weightsKey: string | null = null;
  // A pruned trial's weights are never promotable, so they are not stored.
  if (result.status === 'complete' && result.weights && !pruned) {
    // Each attempt writes its own immutable key; only the attempt the coordinator accepts is referenced.
    weightsKey = keys.trialWeights(spec.id, planned.trial, `a${ctx.attempt}-${crypto.randomUUID().slice(0, 8)}`);
    const bytes = encodeWeights(result.weights);
    await ctx.store.put(
      weightsKey,
      faults?.corruptWeightsOfTrials.includes(planned.trial) ? bytes.subarray(0, bytes.length >> 1) : bytes,
    );
  }
  return {
    attempts: ctx.attempt,
    status: pruned ? 'pruned' : result.status,
    reason:
      result.status === 'diverged'
        ? 'non-finite loss'
        : pruned
          ? `pruned by successive halving at rung ${result.history.length}`
          : null,
    history: result.history,
    final: result.final,
    timing: result.timing,
    stopReason: result.stopReason,
    backend: result.backend,
    simd: backend.simd,
    weightsKey,
    prunedAtEpoch: pruned ? result.history.length : null,
    finishedAt: new Date().toISOString(),
  };
}

/** With the ASHA pruner, the trial asks the coordinator at each rung epoch whether to go on. */
function rungCheckpoint(spec: StudySpec, ctx: TrialContext) {
  const ask = ctx.rung;
  const pruner = prunerOf(spec);
  if (!pruner || !ask) return undefined;
  const rungs = new Set(ashaRungs(pruner, spec.budget.epochs));
  return async (r: EpochRecord): Promise<RungDecision> =>
    rungs.has(r.epoch) ? ask(r.epoch, r.valAccuracy) : 'continue';
}

export function failedResult(attempts: number, reason: string): TrialResult {
  return {
    attempts,
    status: 'failed',
    reason,
    history: [],
    final: null,
    timing: null,
    stopReason: null,
    backend: null,
    simd: null,
    weightsKey: null,
    finishedAt: new Date().toISOString(),
  };
}
