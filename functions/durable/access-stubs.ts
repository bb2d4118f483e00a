/** Typed handles on the access-control Durable Objects (see stubs.ts for why plain interfaces). */
import type { AuditPage, KeyCheck, KeyRecord, KeySummary, NewAuditEntry } from '../../shared/access/records';

export interface ApiKeyApi {
  create(record: KeyRecord): Promise<boolean>;
  check(hash: string): Promise<KeyCheck>;
  revoke(at: string): Promise<KeySummary | null>;
  summary(): Promise<KeySummary | null>;
}

export interface KeyDirectoryApi {
  add(summary: KeySummary): Promise<void>;
  update(summary: KeySummary): Promise<void>;
  list(): Promise<KeySummary[]>;
}

export interface AuditLogApi {
  append(entry: NewAuditEntry): Promise<number>;
  page(limit: number, before: number | null): Promise<AuditPage>;
}

export function apiKeyStub(ns: Env['KEYS'], id: string): ApiKeyApi {
  return ns.get(ns.idFromName(id)) as unknown as ApiKeyApi;
}

export function keyDirectoryStub(ns: Env['KEY_DIRECTORY']): KeyDirectoryApi {
  return ns.get(ns.idFromName('directory')) as unknown as KeyDirectoryApi;
}

export function auditStub(ns: Env['AUDIT']): AuditLogApi {
  return ns.get(ns.idFromName('audit')) as unknown as AuditLogApi;
}
