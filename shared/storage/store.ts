/**
 * Key-value storage behind one small interface, so the domain code never touches a binding directly.
 * Two implementations pass the same contract suite (test/workers/store-contract.test.ts): Workers KV
 * and an in-memory map.
 */

export type Metadata = Record<string, unknown>;

export interface ListedKey<M extends Metadata = Metadata> {
  name: string;
  metadata: M | null;
}

export interface ListPage<M extends Metadata = Metadata> {
  keys: ListedKey<M>[];
  /** Present when more keys follow. */
  cursor: string | null;
}

export interface PutOptions {
  /** Small JSON (KV allows 1,024 bytes) returned by `list`, so listings need no per-key reads. */
  metadata?: Metadata;
}

export interface Store {
  getText(key: string): Promise<string | null>;
  getBytes(key: string): Promise<ArrayBuffer | null>;
  put(key: string, value: string | ArrayBuffer | Uint8Array, options?: PutOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys in lexicographic order with the given prefix, a page at a time. */
  list<M extends Metadata = Metadata>(
    prefix: string,
    options?: { cursor?: string | null; limit?: number },
  ): Promise<ListPage<M>>;
}

export async function getJson<T>(store: Store, key: string): Promise<T | null> {
  const text = await store.getText(key);
  return text === null ? null : (JSON.parse(text) as T);
}

export function putJson(store: Store, key: string, value: unknown, options?: PutOptions): Promise<void> {
  return store.put(key, JSON.stringify(value), options);
}

/** Every key under a prefix, following cursors. */
export async function listAll<M extends Metadata = Metadata>(store: Store, prefix: string): Promise<ListedKey<M>[]> {
  const out: ListedKey<M>[] = [];
  let cursor: string | null = null;
  do {
    const page: ListPage<M> = await store.list<M>(prefix, { cursor });
    out.push(...page.keys);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

const MAX_METADATA_BYTES = 1024;

export function checkMetadata(metadata: Metadata | undefined): void {
  if (metadata && new TextEncoder().encode(JSON.stringify(metadata)).length > MAX_METADATA_BYTES) {
    throw new Error(`metadata over ${MAX_METADATA_BYTES} bytes`);
  }
}

/**
 * A listing index (one key per item under `prefix`, its headline in the metadata): the items newest
 * first, each with its id (the key without the prefix). One list call per 1,000 items, no per-item reads.
 */
export async function listIndex<M extends Metadata & { createdAt: string }>(
  store: Store,
  prefix: string,
): Promise<(M & { id: string })[]> {
  const listed = await listAll<M>(store, prefix);
  return listed
    .filter((k): k is ListedKey<M> & { metadata: M } => k.metadata !== null)
    .map((k) => ({ ...k.metadata, id: k.name.slice(prefix.length) }))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
