/**
 * Large immutable objects (dataset versions) behind one small interface: R2 in the worker, a map in
 * plain unit tests. R2 is strongly consistent: a read anywhere sees the last completed write.
 */

export interface BlobStore {
  get(key: string): Promise<ArrayBuffer | null>;
  put(key: string, value: ArrayBuffer | Uint8Array | string): Promise<void>;
  /** Deletes every object whose key starts with `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
  /** Keys under a prefix, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
}

export class R2BlobStore implements BlobStore {
  constructor(private readonly bucket: R2Bucket) {}

  async get(key: string): Promise<ArrayBuffer | null> {
    const obj = await this.bucket.get(key);
    return obj ? obj.arrayBuffer() : null;
  }

  async put(key: string, value: ArrayBuffer | Uint8Array | string): Promise<void> {
    await this.bucket.put(key, value);
  }

  async deletePrefix(prefix: string): Promise<void> {
    const keys = await this.list(prefix);
    // R2 deletes up to 1,000 keys per call.
    for (let i = 0; i < keys.length; i += 1000) await this.bucket.delete(keys.slice(i, i + 1000));
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
      out.push(...page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return out;
  }
}

export class MemoryBlobStore implements BlobStore {
  private readonly objects = new Map<string, ArrayBuffer>();

  async get(key: string): Promise<ArrayBuffer | null> {
    const v = this.objects.get(key);
    return v ? v.slice(0) : null;
  }

  async put(key: string, value: ArrayBuffer | Uint8Array | string): Promise<void> {
    const bytes =
      typeof value === 'string'
        ? new TextEncoder().encode(value)
        : value instanceof Uint8Array
          ? value
          : new Uint8Array(value);
    this.objects.set(key, bytes.slice().buffer);
  }

  async deletePrefix(prefix: string): Promise<void> {
    for (const k of await this.list(prefix)) this.objects.delete(k);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
