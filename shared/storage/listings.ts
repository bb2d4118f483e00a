/**
 * The listings (studies, sessions, model versions) and the questions asked of them ("is a study running
 * on this dataset?", "which studies are still running?"). They must show the latest state as soon as it
 * is written, which KV cannot promise (a reader elsewhere may see a value up to 60 s old, and a key takes
 * one write per second): they live in D1, strongly consistent from its primary. Two implementations pass
 * the same contract suite (test/workers/listings-contract.test.ts): D1 and an in-memory map.
 */

export type ListingKind = 'study' | 'session' | 'model';

export interface ListingEntry {
  /** ISO time; listings are newest first. */
  createdAt: string;
  status: string;
  dataset: string | null;
  /** The line a listing shows (small JSON). */
  headline: Record<string, unknown>;
}

export interface Listings {
  /** Creates or replaces the line of `id`. The owner (one Durable Object per item) is the only writer. */
  upsert(kind: ListingKind, id: string, entry: ListingEntry): Promise<void>;
  /** Every line of a kind, newest first, each headline with its id. */
  list<H extends Record<string, unknown>>(kind: ListingKind): Promise<(H & { id: string })[]>;
  /** Ids of the items of a kind with this status (optionally on one dataset), oldest first. */
  withStatus(kind: ListingKind, status: string, dataset?: string): Promise<string[]>;
  /** Drops the line of `id` (idempotent): the item is gone, not merely finished. */
  remove(kind: ListingKind, id: string): Promise<void>;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS listings (
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     created_at TEXT NOT NULL,
     status TEXT NOT NULL,
     dataset TEXT,
     headline TEXT NOT NULL,
     PRIMARY KEY (kind, id)
   )`,
  'CREATE INDEX IF NOT EXISTS listings_status ON listings (kind, status, dataset)',
];

/**
 * D1. The table is created on first use in each isolate (IF NOT EXISTS), so a fresh database — the one
 * wrangler provisions on the first deploy — needs no separate migration step.
 */
export class D1Listings implements Listings {
  private static ready = new WeakMap<D1Database, Promise<unknown>>();

  constructor(private readonly db: D1Database) {}

  private schema(): Promise<unknown> {
    let ready = D1Listings.ready.get(this.db);
    if (!ready) {
      ready = this.db.batch(SCHEMA.map((s) => this.db.prepare(s)));
      ready.catch(() => D1Listings.ready.delete(this.db));
      D1Listings.ready.set(this.db, ready);
    }
    return ready;
  }

  async upsert(kind: ListingKind, id: string, e: ListingEntry): Promise<void> {
    await this.schema();
    await this.db
      .prepare(
        `INSERT INTO listings (kind, id, created_at, status, dataset, headline) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET status = excluded.status, dataset = excluded.dataset,
           headline = excluded.headline`,
      )
      .bind(kind, id, e.createdAt, e.status, e.dataset, JSON.stringify(e.headline))
      .run();
  }

  async list<H extends Record<string, unknown>>(kind: ListingKind): Promise<(H & { id: string })[]> {
    await this.schema();
    const { results } = await this.db
      .prepare('SELECT id, headline FROM listings WHERE kind = ? ORDER BY created_at DESC, id DESC')
      .bind(kind)
      .all<{ id: string; headline: string }>();
    return results.map((r) => ({ ...(JSON.parse(r.headline) as H), id: r.id }));
  }

  async withStatus(kind: ListingKind, status: string, dataset?: string): Promise<string[]> {
    await this.schema();
    const stmt =
      dataset === undefined
        ? this.db
            .prepare('SELECT id FROM listings WHERE kind = ? AND status = ? ORDER BY created_at, id')
            .bind(kind, status)
        : this.db
            .prepare('SELECT id FROM listings WHERE kind = ? AND status = ? AND dataset = ? ORDER BY created_at, id')
            .bind(kind, status, dataset);
    const { results } = await stmt.all<{ id: string }>();
    return results.map((r) => r.id);
  }

  async remove(kind: ListingKind, id: string): Promise<void> {
    await this.schema();
    await this.db.prepare('DELETE FROM listings WHERE kind = ? AND id = ?').bind(kind, id).run();
  }
}

/** In memory, with the same ordering rules, for tests and local tools. */
export class MemoryListings implements Listings {
  private readonly rows = new Map<string, ListingEntry & { kind: ListingKind; id: string }>();

  async upsert(kind: ListingKind, id: string, e: ListingEntry): Promise<void> {
    const key = `${kind}\u0000${id}`;
    const createdAt = this.rows.get(key)?.createdAt ?? e.createdAt;
    this.rows.set(key, { ...structuredClone(e), createdAt, kind, id });
  }

  private ofKind(kind: ListingKind) {
    return [...this.rows.values()].filter((r) => r.kind === kind);
  }

  async list<H extends Record<string, unknown>>(kind: ListingKind): Promise<(H & { id: string })[]> {
    return this.ofKind(kind)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      .map((r) => ({ ...(structuredClone(r.headline) as H), id: r.id }));
  }

  async withStatus(kind: ListingKind, status: string, dataset?: string): Promise<string[]> {
    return this.ofKind(kind)
      .filter((r) => r.status === status && (dataset === undefined || r.dataset === dataset))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map((r) => r.id);
  }

  async remove(kind: ListingKind, id: string): Promise<void> {
    this.rows.delete(`${kind}\u0000${id}`);
  }
}
