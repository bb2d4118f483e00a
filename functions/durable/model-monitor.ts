/**
 * One Durable Object per model (SQLite storage): the model's review queue, the labels reviewers give,
 * the live quality of each served version, challenger agreement and drift sketches.
 *
 * Why here and not KV or D1: the queue takes a write per logged request and a label must be applied
 * exactly once (a second reviewer labelling the same item gets a conflict), which needs a single writer
 * with transactions. KV allows one write per second per key and reads up to 60 s stale, so a queue under
 * one key would lose items and show labelled items as pending. D1 would do for the rows, but the label,
 * the quality counters and the drift window change together, and the object also runs the alarm that
 * appends labelled rows to the dataset; keeping them in one object per model spreads the write load per
 * model and keeps every change a local transaction.
 */
import { DurableObject } from 'cloudflare:workers';
import {
  appendRows,
  isEmbeddedDataset,
  loadSplit,
  readDataset,
  type AppendCell,
  type AppendRow,
} from '../../shared/datasets';
import { log, logError } from '../../shared/log';
import { binOf, DEFAULT_PSI_THRESHOLD, MIN_DRIFT_ROWS, psi } from '../../shared/monitor/psi';
import {
  binCount,
  binLabels,
  InstanceBinner,
  numericSketch,
  tableSketches,
  type ColumnSketch,
} from '../../shared/monitor/columns';
import { stratifiedSplit } from '../../models/dataset';
import {
  CONFIDENCE_BINS,
  type Agreement,
  type DriftReport,
  type LabelScore,
  type LiveQuality,
  type LogOutcome,
  type MonitorFlush,
  type ReviewBatch,
  type ReviewItem,
  type ReviewKind,
  type ReviewPage,
  type VersionQuality,
} from '../../shared/monitor/types';
import { rawRows } from '../../shared/study/evaluate-split';
import type { ModelVersion } from '../../shared/study/types';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { ok, refuse, type ModelMonitorContract, type Result } from './contracts';
import { catalogStub, registryStub } from './stubs';

/** Pending items per kind: beyond this the queue refuses new ones (counted as dropped) until reviewers catch up. */
export const MAX_PENDING: Record<ReviewKind, number> = { flagged: 2000, audit: 500 };
/** Request ids remembered for exactly-once hand-over; a retry comes within seconds, not after this many requests. */
const REMEMBERED_REQUESTS = 5000;
export const MAX_REVIEW_PAGE = 100;
/** Labelled rows are appended to the dataset this long after the last label (several labels, one new version). */
export const APPEND_DELAY_MS = 2000;

interface ReviewRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  version: number;
  kind: string;
  status: string;
  input: string;
  input_key: string;
  label_pred: string;
  confidence: number;
  probabilities: string;
  created_at: string;
  seen: number;
  label: string | null;
  labelled_at: string | null;
  labelled_by: string | null;
  correct: number | null;
  appended_to: string | null;
  append_error: string | null;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS reviews (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     version INTEGER NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     input TEXT NOT NULL,
     input_key TEXT NOT NULL UNIQUE,
     label_pred TEXT NOT NULL,
     confidence REAL NOT NULL,
     probabilities TEXT NOT NULL,
     created_at TEXT NOT NULL,
     seen INTEGER NOT NULL DEFAULT 1,
     label TEXT,
     labelled_at TEXT,
     labelled_by TEXT,
     correct INTEGER,
     appended_to TEXT,
     append_error TEXT
   )`,
  'CREATE INDEX IF NOT EXISTS reviews_pending ON reviews (status, kind, seq)',
  // Covers quality()'s GROUP BY: the labelled rows stay, so it reads the index, not the inputs.
  'CREATE INDEX IF NOT EXISTS reviews_quality ON reviews (version, kind, status, correct)',
  'CREATE TABLE IF NOT EXISTS requests (request_id TEXT PRIMARY KEY, seq INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS confidence (version INTEGER NOT NULL, bin INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (version, bin))',
  `CREATE TABLE IF NOT EXISTS agreement (champion INTEGER NOT NULL, challenger INTEGER NOT NULL, mode TEXT NOT NULL,
     compared INTEGER NOT NULL, agreed INTEGER NOT NULL, PRIMARY KEY (champion, challenger, mode))`,
  // The training distribution per version: per column, its kind, bins and training counts (ColumnSketch[]).
  // (drift_reference, numeric features only, came first; its rows are left unread and recomputed here.)
  'CREATE TABLE IF NOT EXISTS drift_sketches (version INTEGER PRIMARY KEY, columns TEXT NOT NULL)',
  // The served window per version: rows sketched since `since`, counts per (feature, bin).
  'CREATE TABLE IF NOT EXISTS drift_window (version INTEGER PRIMARY KEY, rows INTEGER NOT NULL, since TEXT NOT NULL, counts TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)',
];

function score(labelled: number, correct: number): LabelScore {
  return { labelled, correct, accuracy: labelled ? correct / labelled : null };
}

function toItem(model: string, r: ReviewRow): ReviewItem {
  return {
    id: r.id,
    model,
    version: r.version,
    kind: r.kind as ReviewKind,
    status: r.status as ReviewItem['status'],
    input: JSON.parse(r.input) as unknown,
    predicted: {
      label: r.label_pred,
      confidence: r.confidence,
      probabilities: JSON.parse(r.probabilities) as Record<string, number>,
    },
    createdAt: r.created_at,
    seen: r.seen,
    label: r.label,
    labelledAt: r.labelled_at,
    labelledBy: r.labelled_by,
    appendedTo: r.appended_to,
    appendError: r.append_error,
  };
}

/** A review id names its model, so POST /v1/reviews/:id finds the object: "<model>.<24 hex>". */
export function newReviewId(model: string): string {
  return `${model}.${crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

export function modelOfReview(id: string): string | null {
  const dot = id.lastIndexOf('.');
  return dot > 0 ? id.slice(0, dot) : null;
}

interface Reference {
  columns: ColumnSketch[];
  /** A table version: served instances are binned per column as its preprocessing reads them. */
  binner: InstanceBinner | null;
}

function emptyCounts(ref: Reference): number[][] {
  return ref.columns.map((c) => new Array<number>(binCount(c)).fill(0));
}

export class ModelMonitor extends DurableObject<Env> implements ModelMonitorContract {
  private readonly references = new Map<number, Promise<Reference>>();
  private appending: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const statement of SCHEMA) ctx.storage.sql.exec(statement);
  }

  private get sql() {
    return this.ctx.storage.sql;
  }

  private model(): string {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE name = 'model'").toArray()[0]?.value ?? '';
  }

  private remember(model: string): void {
    this.sql.exec("INSERT OR IGNORE INTO meta (name, value) VALUES ('model', ?)", model);
  }

  private bump(name: string, by: number): void {
    if (by === 0) return;
    this.sql.exec(
      'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value',
      name,
      by,
    );
  }

  private counter(name: string): number {
    return this.sql.exec<{ value: number }>('SELECT value FROM counters WHERE name = ?', name).toArray()[0]?.value ?? 0;
  }

  /**
   * Takes one request's items: a request id seen before is ignored (the hand-over was retried); an input
   * already in the queue (any status) only counts as seen again; a full queue refuses (dropped).
   */
  async log(batch: ReviewBatch): Promise<LogOutcome> {
    this.remember(batch.model);
    const outcome: LogOutcome = { added: 0, duplicates: 0, dropped: 0 };
    this.ctx.storage.transactionSync(() => {
      const seq = this.counter('requests') + 1;
      const fresh = this.sql
        .exec('INSERT OR IGNORE INTO requests (request_id, seq) VALUES (?, ?) RETURNING seq', batch.requestId, seq)
        .toArray();
      if (fresh.length === 0) return;
      this.bump('requests', 1);
      this.sql.exec('DELETE FROM requests WHERE seq <= ?', seq - REMEMBERED_REQUESTS);
      this.bump('skipped', batch.skipped);
      const pending = (kind: ReviewKind) =>
        this.sql
          .exec<{ n: number }>("SELECT COUNT(*) AS n FROM reviews WHERE status = 'pending' AND kind = ?", kind)
          .one().n;
      const room: Record<ReviewKind, number> = {
        flagged: MAX_PENDING.flagged - pending('flagged'),
        audit: MAX_PENDING.audit - pending('audit'),
      };
      const now = new Date().toISOString();
      for (const item of batch.items) {
        const again = this.sql.exec(
          'UPDATE reviews SET seen = seen + 1 WHERE input_key = ? RETURNING seq',
          item.inputKey,
        );
        if (again.toArray().length > 0) {
          outcome.duplicates += 1;
          continue;
        }
        if (room[item.kind] <= 0) {
          outcome.dropped += 1;
          continue;
        }
        room[item.kind] -= 1;
        this.sql.exec(
          `INSERT INTO reviews (id, version, kind, status, input, input_key, label_pred, confidence, probabilities, created_at)
           VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)`,
          newReviewId(batch.model),
          item.version,
          item.kind,
          JSON.stringify(item.input),
          item.inputKey,
          item.label,
          item.confidence,
          JSON.stringify(item.probabilities),
          now,
        );
        outcome.added += 1;
      }
      this.bump('dropped', outcome.dropped);
    });
    return outcome;
  }

  /** Pending items, oldest first; `after` is the `next` of the previous page. */
  async pending(kind: ReviewKind | null, limit: number, after: string | null): Promise<ReviewPage> {
    const n = Math.max(1, Math.min(MAX_REVIEW_PAGE, Math.floor(limit)));
    const from = after === null ? 0 : Number(after);
    const rows = this.sql
      .exec<ReviewRow>(
        `SELECT * FROM reviews WHERE status = 'pending' AND seq > ? ${kind ? 'AND kind = ?' : ''} ORDER BY seq LIMIT ?`,
        ...(kind ? [from, kind, n + 1] : [from, n + 1]),
      )
      .toArray();
    const model = this.model();
    const page = rows.slice(0, n);
    return {
      reviews: page.map((r) => toItem(model, r)),
      next: rows.length > n ? String(page[page.length - 1]!.seq) : null,
    };
  }

  async get(id: string): Promise<ReviewItem | null> {
    const row = this.sql.exec<ReviewRow>('SELECT * FROM reviews WHERE id = ?', id).toArray()[0];
    return row ? toItem(this.model(), row) : null;
  }

  /**
   * Labels a pending item, once: a labelled or discarded item answers conflict. The caller has checked
   * that `label` is a class of the item's version. Schedules the append of labelled rows to the dataset.
   */
  async label(id: string, label: string, by: string): Promise<Result<ReviewItem>> {
    const row = this.sql.exec<ReviewRow>('SELECT * FROM reviews WHERE id = ?', id).toArray()[0];
    if (!row) return refuse('not_found', `no review ${id}`);
    if (row.status !== 'pending') return refuse('conflict', `review ${id} is already ${row.status}`);
    this.sql.exec(
      "UPDATE reviews SET status = 'labelled', label = ?, labelled_at = ?, labelled_by = ?, correct = ? WHERE id = ?",
      label,
      new Date().toISOString(),
      by,
      label === row.label_pred ? 1 : 0,
      id,
    );
    await this.ctx.storage.setAlarm(Date.now() + APPEND_DELAY_MS);
    return ok((await this.get(id))!);
  }

  async discard(id: string, by: string): Promise<Result<ReviewItem>> {
    const row = this.sql.exec<ReviewRow>('SELECT status FROM reviews WHERE id = ?', id).toArray()[0];
    if (!row) return refuse('not_found', `no review ${id}`);
    if (row.status !== 'pending') return refuse('conflict', `review ${id} is already ${row.status}`);
    this.sql.exec(
      "UPDATE reviews SET status = 'discarded', labelled_at = ?, labelled_by = ? WHERE id = ?",
      new Date().toISOString(),
      by,
      id,
    );
    return ok((await this.get(id))!);
  }

  /** Labelled items (inputs and labels) labelled after `since`, oldest first: the evidence for live decisions. */
  async labelledSince(since: string | null): Promise<ReviewItem[]> {
    const model = this.model();
    return this.sql
      .exec<ReviewRow>("SELECT * FROM reviews WHERE status = 'labelled' AND labelled_at > ? ORDER BY seq", since ?? '')
      .toArray()
      .map((r) => toItem(model, r));
  }

  async quality(): Promise<LiveQuality> {
    const byVersion = new Map<number, VersionQuality>();
    const of = (version: number) => {
      let q = byVersion.get(version);
      if (!q) {
        q = {
          version,
          flagged: score(0, 0),
          audit: score(0, 0),
          pending: 0,
          confidence: new Array<number>(CONFIDENCE_BINS).fill(0),
          served: 0,
        };
        byVersion.set(version, q);
      }
      return q;
    };
    for (const r of this.sql
      .exec<{ version: number; kind: string; status: string; n: number; correct: number | null }>(
        'SELECT version, kind, status, COUNT(*) AS n, SUM(correct) AS correct FROM reviews GROUP BY version, kind, status',
      )
      .toArray()) {
      const q = of(r.version);
      if (r.status === 'labelled') q[r.kind as ReviewKind] = score(r.n, r.correct ?? 0);
      else if (r.status === 'pending') q.pending += r.n;
    }
    for (const r of this.sql
      .exec<{ version: number; bin: number; count: number }>('SELECT version, bin, count FROM confidence')
      .toArray()) {
      const q = of(r.version);
      q.confidence[r.bin] = r.count;
      q.served += r.count;
    }
    const agreement: Agreement[] = this.sql
      .exec<{ champion: number; challenger: number; mode: string; compared: number; agreed: number }>(
        'SELECT champion, challenger, mode, compared, agreed FROM agreement ORDER BY champion, challenger',
      )
      .toArray()
      .map((a) => ({
        champion: a.champion,
        challenger: a.challenger,
        mode: a.mode as Agreement['mode'],
        compared: a.compared,
        agreed: a.agreed,
        rate: a.compared ? a.agreed / a.compared : null,
      }));
    return {
      versions: [...byVersion.values()].sort((a, b) => a.version - b.version),
      agreement,
      skipped: this.counter('skipped'),
      dropped: this.counter('dropped'),
    };
  }

  /**
   * Served-traffic counters from an isolate: confidence histograms, challenger agreement and sampled rows
   * for the drift sketches (binned here against the version's training edges).
   */
  async flush(report: MonitorFlush, versions: ModelVersion[]): Promise<void> {
    this.remember(report.model);
    const refs = new Map<number, Reference>();
    for (const meta of versions) refs.set(meta.version, await this.reference(meta));
    this.ctx.storage.transactionSync(() => {
      for (const [version, counts] of Object.entries(report.confidence))
        counts.forEach((count, bin) => {
          if (count > 0)
            this.sql.exec(
              'INSERT INTO confidence (version, bin, count) VALUES (?, ?, ?) ON CONFLICT (version, bin) DO UPDATE SET count = count + excluded.count',
              Number(version),
              bin,
              count,
            );
        });
      for (const a of report.agreement)
        this.sql.exec(
          `INSERT INTO agreement (champion, challenger, mode, compared, agreed) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (champion, challenger, mode) DO UPDATE SET compared = compared + excluded.compared, agreed = agreed + excluded.agreed`,
          a.champion,
          a.challenger,
          a.mode,
          a.compared,
          a.agreed,
        );
      const add = (version: number, n: number, fill: (ref: Reference, counts: number[][]) => void) => {
        const ref = refs.get(version);
        if (!ref) return;
        const window = this.window(version, ref);
        fill(ref, window.counts);
        this.sql.exec(
          'INSERT OR REPLACE INTO drift_window (version, rows, since, counts) VALUES (?, ?, ?, ?)',
          version,
          window.rows + n,
          window.since,
          JSON.stringify(window.counts),
        );
      };
      for (const batch of report.rows) {
        const ref = refs.get(batch.version);
        if (!ref || ref.binner || ref.columns.length !== batch.features) continue;
        const n = batch.x.length / batch.features;
        add(batch.version, n, (r, counts) => {
          for (let i = 0; i < n; i++)
            for (let j = 0; j < batch.features; j++)
              counts[j]![binOf(r.columns[j]!.edges, batch.x[i * batch.features + j]!)]! += 1;
        });
      }
      for (const batch of report.instances ?? []) {
        const ref = refs.get(batch.version);
        if (!ref?.binner) continue;
        add(batch.version, batch.instances.length, (r, counts) => {
          for (const instance of batch.instances) r.binner!.add(instance, counts);
        });
      }
    });
  }

  private window(version: number, ref: Reference): { rows: number; since: string; counts: number[][] } {
    const row = this.sql
      .exec<{ rows: number; since: string; counts: string }>(
        'SELECT rows, since, counts FROM drift_window WHERE version = ?',
        version,
      )
      .toArray()[0];
    if (row) return { rows: row.rows, since: row.since, counts: JSON.parse(row.counts) as number[][] };
    return { rows: 0, since: new Date().toISOString(), counts: emptyCounts(ref) };
  }

  /** The training distribution of `meta`'s inputs, computed once per version from its training rows. */
  private reference(meta: ModelVersion): Promise<Reference> {
    let ref = this.references.get(meta.version);
    if (ref) return ref;
    const stored = this.sql
      .exec<{ columns: string }>('SELECT columns FROM drift_sketches WHERE version = ?', meta.version)
      .toArray()[0];
    ref = stored
      ? Promise.resolve(this.withBinner(meta, JSON.parse(stored.columns) as ColumnSketch[]))
      : this.computeReference(meta);
    this.references.set(meta.version, ref);
    ref.catch(() => this.references.delete(meta.version));
    return ref;
  }

  private withBinner(meta: ModelVersion, columns: ColumnSketch[]): Reference {
    return {
      columns,
      binner: meta.preprocessing ? new InstanceBinner(columns, meta.preprocessing.missingMarkers) : null,
    };
  }

  /**
   * A table version: per input column of its preprocessing, from the raw training rows of the table it
   * was trained on (the split its study made: same version, same seed). Otherwise per feature, from the
   * training split's raw values.
   */
  private async computeReference(meta: ModelVersion): Promise<Reference> {
    const blobs = new R2BlobStore(this.env.DATASETS);
    let columns: ColumnSketch[];
    if (meta.preprocessing) {
      const stored = await readDataset(blobs, meta.dataset, meta.datasetVersion);
      if (stored.kind !== 'table')
        throw new Error(`${meta.model} v${meta.version} has a preprocessing but ${meta.dataset} is not a table`);
      const train = stratifiedSplit(stored.data, meta.splitSeed).train;
      columns = tableSketches(meta.preprocessing.columns, stored.data.table, train);
    } else {
      const split = await loadSplit(meta.dataset, blobs, meta.datasetVersion);
      const raw = rawRows(split, split.train);
      const column = new Map(split.featureNames.map((n, i) => [n, i]));
      const rows = split.train.rows;
      columns = meta.featureNames.map((name) => {
        const j = column.get(name);
        const values = new Float64Array(rows);
        if (j !== undefined) for (let r = 0; r < rows; r++) values[r] = raw[r * split.features + j]!;
        return numericSketch(name, values);
      });
    }
    this.sql.exec(
      'INSERT OR REPLACE INTO drift_sketches (version, columns) VALUES (?, ?)',
      meta.version,
      JSON.stringify(columns),
    );
    return this.withBinner(meta, columns);
  }

  /** PSI per input column of `meta`'s served window against its training distribution. */
  async drift(meta: ModelVersion, threshold = DEFAULT_PSI_THRESHOLD): Promise<DriftReport> {
    const ref = await this.reference(meta);
    const row = this.sql
      .exec<{ rows: number; since: string; counts: string }>(
        'SELECT rows, since, counts FROM drift_window WHERE version = ?',
        meta.version,
      )
      .toArray()[0];
    const served = row ? (JSON.parse(row.counts) as number[][]) : emptyCounts(ref);
    const rows = row?.rows ?? 0;
    const enough = rows >= MIN_DRIFT_ROWS;
    const features = ref.columns.map((c, j) => ({
      feature: c.feature,
      kind: c.kind,
      psi: enough ? psi(c.counts, served[j]!) : 0,
      edges: c.edges,
      bins: binLabels(c),
      expected: c.counts,
      served: served[j]!,
    }));
    const maxPsi = enough ? Math.max(0, ...features.map((f) => f.psi)) : null;
    return {
      model: meta.model,
      version: meta.version,
      rows,
      since: row?.since ?? null,
      threshold,
      maxPsi,
      drifted: enough ? features.filter((f) => f.psi > threshold).map((f) => f.feature) : [],
      features,
    };
  }

  /** A re-tune started: the served window restarts, so the same shift does not start another study. */
  async restartWindow(version: number): Promise<void> {
    this.sql.exec('DELETE FROM drift_window WHERE version = ?', version);
  }

  /** Items labelled after `since` (the "enough new labels" re-tune trigger counts these). */
  async labelsSince(since: string | null): Promise<number> {
    return this.sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM reviews WHERE status = 'labelled' AND labelled_at > ?",
        since ?? '',
      )
      .one().n;
  }

  /**
   * Appends every labelled, not yet appended row to a new version of the current champion's dataset
   * (one version for all of them), with each row's provenance. Returns the new version (null: nothing
   * to append, or the dataset is embedded and cannot take rows).
   */
  appendLabels(): Promise<string | null> {
    // One append at a time: two interleaved runs would read the same unappended rows and append them twice.
    const run = this.appending.then(() => this.appendOnce());
    this.appending = run.catch(() => null);
    return run;
  }

  private async appendOnce(): Promise<string | null> {
    const model = this.model();
    const rows = this.sql
      .exec<ReviewRow>(
        "SELECT * FROM reviews WHERE status = 'labelled' AND appended_to IS NULL AND append_error IS NULL ORDER BY seq",
      )
      .toArray();
    if (rows.length === 0 || !model) return null;
    const registry = registryStub(this.env.MODELS, model);
    const champion = await registry.current();
    if (!champion) return null;
    if (isEmbeddedDataset(champion.dataset)) {
      // An embedded dataset ships with the code and has no stored versions to append to.
      log('review_rows_not_appended', {
        model,
        dataset: champion.dataset,
        rows: rows.length,
        reason: 'embedded dataset',
      });
      return null;
    }
    // A row sent as an array is in its version's input order: a table's columns, else its features.
    const inputs = new Map<number, string[] | null>();
    const appendRowsIn: AppendRow[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const r of rows) {
      if (!inputs.has(r.version)) {
        const v = await registry.version(r.version);
        inputs.set(r.version, v ? (v.preprocessing?.columns.map((c) => c.column) ?? v.featureNames) : null);
      }
      const names = inputs.get(r.version);
      const input = JSON.parse(r.input) as unknown;
      if (!names) {
        unreadable.push({ id: r.id, reason: `version ${r.version} is unknown` });
        continue;
      }
      const values: Record<string, AppendCell> = Array.isArray(input)
        ? Object.fromEntries(names.map((n, i) => [n, input[i] as AppendCell]))
        : (input as Record<string, AppendCell>);
      appendRowsIn.push({ values, label: r.label!, reviewId: r.id, labelledAt: r.labelled_at! });
    }
    const deps = { blobs: new R2BlobStore(this.env.DATASETS), catalog: catalogStub(this.env.DATASET_CATALOG) };
    let outcome = null;
    for (let attempt = 0; attempt < 3 && !outcome; attempt++)
      outcome = await appendRows(deps, champion.dataset, appendRowsIn);
    if (!outcome)
      throw new Error(`dataset "${champion.dataset}" changed three times while labelled rows were appended`);
    const version = outcome.appended.length ? outcome.meta.version : null;
    this.ctx.storage.transactionSync(() => {
      for (const id of outcome.appended) this.sql.exec('UPDATE reviews SET appended_to = ? WHERE id = ?', version, id);
      for (const r of [...outcome.refused.map((x) => ({ id: x.reviewId, reason: x.reason })), ...unreadable])
        this.sql.exec('UPDATE reviews SET append_error = ? WHERE id = ?', r.reason, r.id);
    });
    if (version)
      log('review_rows_appended', { model, dataset: champion.dataset, version, rows: outcome.appended.length });
    return version;
  }

  override async alarm(): Promise<void> {
    try {
      await this.appendLabels();
    } catch (err) {
      logError('review_append_failed', {
        model: this.model(),
        reason: err instanceof Error ? err.message : String(err),
      });
      // Rows stay unappended; try again later (a study start appends them too).
      await this.ctx.storage.setAlarm(Date.now() + 60_000);
    }
  }
}
