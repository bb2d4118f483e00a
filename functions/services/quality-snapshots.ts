/**
 * Live quality as a model's metadata shows it (GET /v1/models/:name): per isolate, a snapshot of the
 * monitor's figures at most QUALITY_TTL_MS old, refreshed after the response.
 *
 * Why not ask the ModelMonitor on every metadata read: the monitor is one object per model that also
 * takes every logged request and every label, so each metadata read would queue behind that write load
 * (and add it: a popular model's metadata is read far more often than it is labelled). The figures only
 * move when isolates flush their counters (every 64 sampled rows or 10 s) or a reviewer labels, so a
 * snapshot up to 10 s old says the same. Why not KV: a snapshot written per label or flush would exceed
 * KV's one write per second per key, and its 60 s read cache would make the figures older than this.
 *
 * A fresh snapshot is answered as is; a stale one is answered and refreshed after the response (one
 * refresh at a time); with none yet, the read waits for the monitor at most COLD_WAIT_MS and answers
 * null beyond it (the read it started still fills the snapshot for the next one).
 */
import { logError } from '../../shared/log';
import type { LiveQuality } from '../../shared/monitor/types';
import { monitorStub } from '../durable/stubs';

export const QUALITY_TTL_MS = 10_000;
export const COLD_WAIT_MS = 250;
/** Snapshots kept per isolate (the least recently read go first). */
const MAX_MODELS = 256;

export interface QualitySnapshot extends LiveQuality {
  asOf: string;
}

interface Entry {
  at: number;
  value: QualitySnapshot | null;
  refreshing: Promise<QualitySnapshot | null> | null;
}

export class QualitySnapshots {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The snapshot to answer with now, and the refresh to hand to waitUntil (null when none was started). */
  async read(env: Env, model: string): Promise<{ value: QualitySnapshot | null; refresh: Promise<unknown> | null }> {
    let entry = this.entries.get(model);
    if (entry) this.entries.delete(model);
    entry ??= { at: 0, value: null, refreshing: null };
    this.entries.set(model, entry);
    if (this.entries.size > MAX_MODELS) this.entries.delete(this.entries.keys().next().value!);
    if (entry.value && this.now() - entry.at < QUALITY_TTL_MS) return { value: entry.value, refresh: null };
    const started = entry.refreshing === null;
    const refreshing = (entry.refreshing ??= this.fetch(env, model, entry));
    if (entry.value) return { value: entry.value, refresh: started ? refreshing : null };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), COLD_WAIT_MS)));
    const value = await Promise.race([refreshing, late]);
    clearTimeout(timer);
    return { value, refresh: value === null && started ? refreshing : null };
  }

  private async fetch(env: Env, model: string, entry: Entry): Promise<QualitySnapshot | null> {
    const asked = this.now();
    try {
      const quality = await monitorStub(env.MONITORS, model).quality();
      entry.value = { ...quality, asOf: new Date(asked).toISOString() };
      entry.at = asked;
      return entry.value;
    } catch (err) {
      logError('quality_snapshot_failed', { model, reason: err instanceof Error ? err.message : String(err) });
      return null;
    } finally {
      entry.refreshing = null;
    }
  }
}
