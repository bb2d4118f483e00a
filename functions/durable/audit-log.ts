/**
 * The audit trail (a single Durable Object, SQLite storage): one appended row per admin action. An
 * INSERT per entry is strongly consistent and never rewrites earlier entries, unlike a JSON list under
 * one KV key (stale reads, 1 write/s, lost updates between concurrent writers). Admin actions are rare,
 * so one object is plenty.
 */
import { DurableObject } from 'cloudflare:workers';
import type { AuditLogContract } from './contracts';
import type { AuditEntry, AuditPage, NewAuditEntry } from '../../shared/access/records';

interface Row extends Record<string, SqlStorageValue> {
  seq: number;
  at: string;
  key_id: string;
  action: string;
  target: string;
  status: number;
}

export const MAX_AUDIT_PAGE = 200;

export class AuditLog extends DurableObject<Env> implements AuditLogContract {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS audit (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         at TEXT NOT NULL,
         key_id TEXT NOT NULL,
         action TEXT NOT NULL,
         target TEXT NOT NULL,
         status INTEGER NOT NULL
       )`,
    );
  }

  async append(entry: NewAuditEntry): Promise<number> {
    const row = this.ctx.storage.sql
      .exec<{ seq: number }>(
        'INSERT INTO audit (at, key_id, action, target, status) VALUES (?, ?, ?, ?, ?) RETURNING seq',
        entry.at,
        entry.keyId,
        entry.action,
        entry.target,
        entry.status,
      )
      .one();
    return row.seq;
  }

  /** Newest first; `before` (a seq) continues from the previous page. */
  async page(limit: number, before: number | null): Promise<AuditPage> {
    const n = Math.max(1, Math.min(MAX_AUDIT_PAGE, Math.floor(limit)));
    const rows = this.ctx.storage.sql
      .exec<Row>(
        'SELECT seq, at, key_id, action, target, status FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?',
        before ?? Number.MAX_SAFE_INTEGER,
        n + 1,
      )
      .toArray();
    const entries: AuditEntry[] = rows.slice(0, n).map((r) => ({
      seq: r.seq,
      at: r.at,
      keyId: r.key_id,
      action: r.action,
      target: r.target,
      status: r.status,
    }));
    return { entries, next: rows.length > n ? entries[entries.length - 1]!.seq : null };
  }
}
