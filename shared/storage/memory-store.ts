import { checkMetadata, type ListPage, type Metadata, type PutOptions, type Store } from './store';

interface Entry {
  value: Uint8Array;
  metadata: Metadata | null;
}

/** In-memory Store with KV's semantics (ordering, cursors, metadata limit), for tests and local tools. */
export class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>();

  async getText(key: string): Promise<string | null> {
    const e = this.entries.get(key);
    return e ? new TextDecoder().decode(e.value) : null;
  }

  async getBytes(key: string): Promise<ArrayBuffer | null> {
    const e = this.entries.get(key);
    return e ? e.value.slice().buffer : null;
  }

  async put(key: string, value: string | ArrayBuffer | Uint8Array, options?: PutOptions): Promise<void> {
    checkMetadata(options?.metadata);
    const bytes =
      typeof value === 'string'
        ? new TextEncoder().encode(value)
        : new Uint8Array(value instanceof ArrayBuffer ? value.slice(0) : value.slice());
    this.entries.set(key, { value: bytes, metadata: options?.metadata ? structuredClone(options.metadata) : null });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async list<M extends Metadata = Metadata>(
    prefix: string,
    options: { cursor?: string | null; limit?: number } = {},
  ): Promise<ListPage<M>> {
    const limit = options.limit ?? 1000;
    const names = [...this.entries.keys()].filter((k) => k.startsWith(prefix)).sort();
    // The cursor is the last name returned; KV's cursors are opaque, callers only pass them back.
    const start = options.cursor ? names.findIndex((n) => n > options.cursor!) : 0;
    const from = start < 0 ? names.length : start;
    const page = names.slice(from, from + limit);
    const more = from + limit < names.length;
    return {
      keys: page.map((name) => ({ name, metadata: (this.entries.get(name)!.metadata as M | null) ?? null })),
      cursor: more ? page[page.length - 1]! : null,
    };
  }
}
