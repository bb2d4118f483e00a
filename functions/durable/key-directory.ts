/**
 * The one list of API keys (a single Durable Object, SQLite storage): what GET /v1/keys shows. It holds
 * summaries only, never a token or hash. Each key's own ApiKey object is the authority for requests;
 * this directory is touched only by admin calls, so being a single object costs nothing on the hot path.
 */
import { DurableObject } from 'cloudflare:workers';
import type { KeyDirectoryContract } from './contracts';
import type { KeySummary } from '../../shared/access/records';

export class KeyDirectory extends DurableObject<Env> implements KeyDirectoryContract {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS keys (
         id TEXT PRIMARY KEY,
         created_at TEXT NOT NULL,
         summary TEXT NOT NULL
       )`,
    );
  }

  async add(summary: KeySummary): Promise<void> {
    this.ctx.storage.sql.exec(
      'INSERT INTO keys (id, created_at, summary) VALUES (?, ?, ?)',
      summary.id,
      summary.createdAt,
      JSON.stringify(summary),
    );
  }

  /** Replaces the listed summary (after a revocation); unknown ids are ignored. */
  async update(summary: KeySummary): Promise<void> {
    this.ctx.storage.sql.exec('UPDATE keys SET summary = ? WHERE id = ?', JSON.stringify(summary), summary.id);
  }

  /** Newest first. */
  async list(): Promise<KeySummary[]> {
    return this.ctx.storage.sql
      .exec<{ summary: string }>('SELECT summary FROM keys ORDER BY created_at DESC, id DESC')
      .toArray()
      .map((r) => JSON.parse(r.summary) as KeySummary);
  }
}
