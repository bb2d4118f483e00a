/**
 * The live loop on the request path, per isolate: which served predictions go to the review queue, which
 * version a canary caller gets, shadow predictions, and the served-traffic counters (confidence
 * histograms, challenger agreement, sampled rows for drift). Nothing here is awaited by a response: the
 * predict route hands the returned promises to ctx.waitUntil, and every failure is logged, not thrown.
 *
 * Under load the isolate bounds its own hand-overs: at most REVIEW_RATE queue writes a second (what the
 * gate refuses is counted and reported with the next write), and the counters go to storage once per
 * FLUSH_ROWS sampled rows or FLUSH_MS, whichever comes first.
 */
import { canaryArm, inAuditSample, inputKey, RateGate, unitHash } from '../../shared/monitor/sampling';
import {
  CONFIDENCE_BINS,
  type Agreement,
  type MonitorFlush,
  type NewReview,
  type TrafficSetting,
} from '../../shared/monitor/types';
import { logError } from '../../shared/log';
import type { ModelVersion } from '../../shared/study/types';
import { monitorStub } from '../durable/stubs';
import type { Instance, Prediction } from './predict';
import { QualitySnapshots } from './quality-snapshots';

/** The audit sample: this share of confident predictions is queued too (by a seeded hash of the input). */
export const AUDIT_RATE = 0.01;
export const AUDIT_SEED = 15;
/** This share of served rows is sketched for drift (by a seeded hash of request and row). */
export const DRIFT_SAMPLE_RATE = 0.2;
export const REVIEW_RATE = 50;
export const REVIEW_BURST = 100;
export const FLUSH_ROWS = 64;
export const FLUSH_MS = 10_000;
/** Sampled rows held per model between flushes (beyond this, rows are not sampled until the next flush). */
const MAX_BUFFERED_ROWS = 1024;

interface Pending {
  confidence: Map<number, number[]>;
  agreement: Map<string, Agreement>;
  rows: Map<number, { meta: ModelVersion; chunks: Float32Array[]; count: number }>;
  /** Table versions: the sampled instances as sent (their columns are binned by the monitor). */
  instances: Map<number, { meta: ModelVersion; instances: unknown[] }>;
  sampled: number;
  since: number;
}

const emptyPending = (now: number): Pending => ({
  confidence: new Map(),
  agreement: new Map(),
  rows: new Map(),
  instances: new Map(),
  sampled: 0,
  since: now,
});

export interface ServedBatch {
  meta: ModelVersion;
  instances: Instance[];
  /** Row-major in meta's feature order (what the model read); null for a table version (its instances are sketched). */
  x: Float32Array | null;
  predictions: Prediction[];
}

export class LiveMonitor {
  private readonly gate: RateGate;
  private readonly skipped = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();

  /** Live quality snapshots for the metadata read (see quality-snapshots.ts). */
  readonly quality: QualitySnapshots;

  constructor(private readonly now: () => number = Date.now) {
    this.gate = new RateGate(REVIEW_RATE, REVIEW_BURST, now);
    this.quality = new QualitySnapshots(now);
  }

  /** Which version answers this caller under `traffic` (only a canary changes anything). */
  arm(traffic: TrafficSetting | null, model: string, callerKey: string | null): 'champion' | 'challenger' {
    if (!traffic || traffic.mode !== 'canary' || callerKey === null) return 'champion';
    return canaryArm(callerKey, model, traffic.challenger, traffic.percent);
  }

  /**
   * Everything the live loop takes from one answered request. Returns the work to hand to waitUntil
   * (null when there is none): the request's review items, and a flush of the counters when one is due.
   */
  served(env: Env, requestId: string, batch: ServedBatch): Promise<void> | null {
    const { meta } = batch;
    const work: Promise<void>[] = [];
    const items: NewReview[] = [];
    batch.predictions.forEach((p, i) => {
      const input = batch.instances[i];
      const key = inputKey(input);
      const kind = p.review
        ? 'flagged'
        : inAuditSample(AUDIT_SEED, AUDIT_RATE, `${meta.model}\u0000${key}`)
          ? 'audit'
          : null;
      if (kind)
        items.push({
          kind,
          version: meta.version,
          input,
          inputKey: key,
          label: p.label,
          confidence: p.confidence,
          probabilities: p.probabilities,
        });
    });
    if (items.length) {
      if (this.gate.take()) {
        const skipped = this.skipped.get(meta.model) ?? 0;
        this.skipped.delete(meta.model);
        work.push(
          monitorStub(env.MONITORS, meta.model)
            .log({ model: meta.model, requestId, items, skipped })
            .then(
              () => undefined,
              (err: unknown) => logError('review_log_failed', { model: meta.model, reason: String(err) }),
            ),
        );
      } else this.skipped.set(meta.model, (this.skipped.get(meta.model) ?? 0) + items.length);
    }
    const p = this.counters(meta.model);
    const hist = p.confidence.get(meta.version) ?? new Array<number>(CONFIDENCE_BINS).fill(0);
    for (const pred of batch.predictions)
      hist[Math.min(CONFIDENCE_BINS - 1, Math.floor(pred.confidence * CONFIDENCE_BINS))]! += 1;
    p.confidence.set(meta.version, hist);
    this.sample(p, requestId, batch);
    const flush = this.flushIfDue(env, meta.model);
    if (flush) work.push(flush);
    return work.length ? Promise.all(work).then(() => undefined) : null;
  }

  /** A shadow comparison: how many of the champion's labels the challenger gave too. */
  agreement(
    model: string,
    champion: number,
    challenger: number,
    mode: Agreement['mode'],
    compared: number,
    agreed: number,
  ): void {
    const p = this.counters(model);
    const key = `${champion}:${challenger}:${mode}`;
    const a = p.agreement.get(key) ?? { champion, challenger, mode, compared: 0, agreed: 0, rate: null };
    a.compared += compared;
    a.agreed += agreed;
    p.agreement.set(key, a);
  }

  private counters(model: string): Pending {
    let p = this.pending.get(model);
    if (!p) {
      p = emptyPending(this.now());
      this.pending.set(model, p);
    }
    return p;
  }

  private sample(p: Pending, requestId: string, batch: ServedBatch): void {
    if (!batch.x && !batch.meta.preprocessing) return;
    const n = batch.predictions.length;
    const picked: number[] = [];
    for (let r = 0; r < n && p.sampled + picked.length < MAX_BUFFERED_ROWS; r++)
      if (unitHash(AUDIT_SEED, `drift\u0000${requestId}\u0000${r}`) < DRIFT_SAMPLE_RATE) picked.push(r);
    if (!picked.length) return;
    p.sampled += picked.length;
    if (!batch.x) {
      // The instances are the parsed request body: held by reference, read by the monitor after the flush.
      const entry = p.instances.get(batch.meta.version) ?? { meta: batch.meta, instances: [] };
      for (const r of picked) entry.instances.push(batch.instances[r]);
      p.instances.set(batch.meta.version, entry);
      return;
    }
    const f = batch.meta.featureNames.length;
    const chunk = new Float32Array(picked.length * f);
    picked.forEach((r, i) => chunk.set(batch.x!.subarray(r * f, (r + 1) * f), i * f));
    const entry = p.rows.get(batch.meta.version) ?? { meta: batch.meta, chunks: [], count: 0 };
    entry.chunks.push(chunk);
    entry.count += picked.length;
    p.rows.set(batch.meta.version, entry);
  }

  /** Hands the model's counters to its monitor when enough rows were sampled or enough time passed. */
  flushIfDue(env: Env, model: string, force = false): Promise<void> | null {
    const p = this.pending.get(model);
    if (!p) return null;
    const due = force || p.sampled >= FLUSH_ROWS || this.now() - p.since >= FLUSH_MS;
    if (!due) return null;
    this.pending.set(model, emptyPending(this.now()));
    const report: MonitorFlush = {
      model,
      confidence: Object.fromEntries([...p.confidence].map(([v, c]) => [String(v), c])),
      agreement: [...p.agreement.values()],
      rows: [...p.rows.values()].map((e) => {
        const f = e.meta.featureNames.length;
        const x = new Float32Array(e.count * f);
        let at = 0;
        for (const c of e.chunks) {
          x.set(c, at);
          at += c.length;
        }
        return { version: e.meta.version, features: f, x };
      }),
      instances: [...p.instances.values()].map((e) => ({ version: e.meta.version, instances: e.instances })),
    };
    const versions = [...p.rows.values(), ...p.instances.values()].map((e) => e.meta);
    return monitorStub(env.MONITORS, model)
      .flush(report, versions)
      .catch((err: unknown) => logError('monitor_flush_failed', { model, reason: String(err) }));
  }
}
