/**
 * The dataset catalog: one Durable Object for every stored dataset. It holds, strongly consistent,
 * what KV could only hold with a 60 s staleness: which version of each dataset is current, its
 * settings, and who pins which version (a running study or a session trains on exactly one version).
 *
 * The versions' contents are immutable R2 objects. A version is deleted only when it is neither the
 * current one nor pinned; the decision and the removal of its record happen in one storage batch with
 * no other I/O in between, so a pin can never be granted on a version that is being deleted (pins are
 * only ever granted on the current version).
 */
import { DurableObject } from 'cloudflare:workers';
import {
  type DatasetCatalogApi,
  type DatasetMeta,
  type DatasetSettings,
  type PinnedBy,
  type VersionHolder,
} from '../../shared/datasets';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { catalogKeys, datasetObjects } from '../../shared/storage/keys';
import { log, logError } from '../../shared/log';

interface VersionRecord {
  name: string;
  version: string;
  holders: string[];
}

export class DatasetCatalog extends DurableObject<Env> implements DatasetCatalogApi {
  async get(name: string): Promise<DatasetMeta | null> {
    return (await this.ctx.storage.get<DatasetMeta>(catalogKeys.current(name))) ?? null;
  }

  async list(): Promise<DatasetMeta[]> {
    return [...(await this.ctx.storage.list<DatasetMeta>({ prefix: catalogKeys.currentPrefix })).values()];
  }

  /**
   * Makes `meta` (whose objects are already in R2) the current version. Settings carry over from the
   * previous version unless `meta` brings its own. Superseded versions nobody pins are deleted.
   */
  async commit(meta: DatasetMeta, keepSettings: boolean): Promise<DatasetMeta> {
    const previous = await this.get(meta.name);
    const next = keepSettings && previous ? { ...meta, settings: previous.settings } : meta;
    await this.ctx.storage.put<unknown>({
      [catalogKeys.current(meta.name)]: next,
      [catalogKeys.version(meta.name, meta.version)]: { name: meta.name, version: meta.version, holders: [] },
    });
    if (previous) await this.collect(previous.name, previous.version);
    return next;
  }

  async commitOnto(meta: DatasetMeta, basedOn: string): Promise<DatasetMeta | null> {
    // No await between the check and the commit's storage writes: the input gate keeps them together.
    if ((await this.get(meta.name))?.version !== basedOn) return null;
    return this.commit(meta, true);
  }

  async updateSettings(name: string, settings: DatasetSettings): Promise<DatasetMeta | null> {
    const meta = await this.get(name);
    if (!meta) return null;
    const next = { ...meta, settings };
    await this.ctx.storage.put(catalogKeys.current(name), next);
    return next;
  }

  /** Removes the dataset from the catalog; its versions go once nobody pins them. */
  async remove(name: string): Promise<DatasetMeta | null> {
    const meta = await this.get(name);
    if (!meta) return null;
    await this.ctx.storage.delete(catalogKeys.current(name));
    await this.collect(name, meta.version);
    return meta;
  }

  /** Pins the current version for `holder` (e.g. "study:<id>") and returns it; null for an unknown name. */
  async pin(name: string, holder: string): Promise<DatasetMeta | null> {
    const meta = await this.get(name);
    if (!meta) return null;
    const pinned = await this.ctx.storage.get<PinnedBy>(catalogKeys.pin(holder));
    if (pinned) {
      // Idempotent: a retried start gets the version it pinned the first time.
      if (pinned.name === name) return (await this.versionMeta(pinned)) ?? meta;
      throw new Error(`${holder} already pins dataset "${pinned.name}"`);
    }
    const key = catalogKeys.version(name, meta.version);
    const record = (await this.ctx.storage.get<VersionRecord>(key))!;
    await this.ctx.storage.put<unknown>({
      [key]: { ...record, holders: [...record.holders, holder] },
      [catalogKeys.pin(holder)]: { name, version: meta.version } satisfies PinnedBy,
    });
    return meta;
  }

  /**
   * Drops `holder`'s pin (idempotent); its version goes if it is superseded and nobody else pins it. The pin
   * record goes last: until then a failure at any step leaves it, so the caller's retry finds it and redoes
   * every step (each is idempotent). Deleting it first made every retry a no-op, and the version kept a
   * holder, or stayed undeleted, for good.
   */
  async release(holder: string): Promise<void> {
    const pinned = await this.ctx.storage.get<PinnedBy>(catalogKeys.pin(holder));
    if (!pinned) return;
    const key = catalogKeys.version(pinned.name, pinned.version);
    const record = await this.ctx.storage.get<VersionRecord>(key);
    if (record) await this.ctx.storage.put(key, { ...record, holders: record.holders.filter((h) => h !== holder) });
    await this.collect(pinned.name, pinned.version);
    await this.ctx.storage.delete(catalogKeys.pin(holder));
  }

  /** Who pins any version of `name`, e.g. ["study:digits-2026…"]. */
  async holders(name: string): Promise<VersionHolder[]> {
    const out: VersionHolder[] = [];
    for (const r of (await this.ctx.storage.list<VersionRecord>({ prefix: catalogKeys.versionsOf(name) })).values())
      for (const h of r.holders) out.push({ name: r.name, version: r.version, holder: h });
    return out;
  }

  /** The stored versions of `name` (current and pinned ones), oldest first by id. */
  async versions(name: string): Promise<string[]> {
    return [...(await this.ctx.storage.list<VersionRecord>({ prefix: catalogKeys.versionsOf(name) })).values()].map(
      (r) => r.version,
    );
  }

  private async versionMeta(p: PinnedBy): Promise<DatasetMeta | null> {
    const current = await this.get(p.name);
    if (current?.version === p.version) return current;
    const bytes = await new R2BlobStore(this.env.DATASETS).get(datasetObjects.meta(p.name, p.version));
    return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as DatasetMeta) : null;
  }

  /**
   * Deletes version `version` of `name` if it is not current and unpinned: first its record, replaced by a
   * `doomed` marker in one transaction (the decision, atomic with the checks: as two writes, a failure in
   * between left a record listing a version whose objects the sweep then deleted), then its R2 objects. A
   * failed R2 delete keeps the marker and is retried by the next sweep.
   */
  private async collect(name: string, version: string): Promise<void> {
    const key = catalogKeys.version(name, version);
    const record = await this.ctx.storage.get<VersionRecord>(key);
    const current = await this.get(name);
    if (!record || record.holders.length > 0 || current?.version === version) return;
    const kv = this.ctx.storage.kv;
    this.ctx.storage.transactionSync(() => {
      kv.put(catalogKeys.doomed(name, version), { name, version });
      kv.delete(key);
    });
    await this.sweep();
  }

  private async sweep(): Promise<void> {
    const blobs = new R2BlobStore(this.env.DATASETS);
    for (const [k, v] of await this.ctx.storage.list<{ name: string; version: string }>({
      prefix: catalogKeys.doomedPrefix,
    })) {
      try {
        await blobs.deletePrefix(datasetObjects.versionPrefix(v.name, v.version));
        await this.ctx.storage.delete(k);
        log('dataset_version_deleted', { name: v.name, version: v.version });
      } catch (err) {
        logError('dataset_version_delete_failed', { name: v.name, version: v.version, reason: String(err) });
      }
    }
  }
}
