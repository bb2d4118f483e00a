import { checkMetadata, type ListPage, type Metadata, type PutOptions, type Store } from './store';

/** Workers KV. Values are eventually consistent across locations (~60 s); write-once keys avoid the issue. */
export class KvStore implements Store {
  constructor(private readonly kv: KVNamespace) {}

  getText(key: string): Promise<string | null> {
    return this.kv.get(key, 'text');
  }

  getBytes(key: string): Promise<ArrayBuffer | null> {
    return this.kv.get(key, 'arrayBuffer');
  }

  async put(key: string, value: string | ArrayBuffer | Uint8Array, options?: PutOptions): Promise<void> {
    checkMetadata(options?.metadata);
    await this.kv.put(key, value, options?.metadata ? { metadata: options.metadata } : undefined);
  }

  delete(key: string): Promise<void> {
    return this.kv.delete(key);
  }

  async list<M extends Metadata = Metadata>(
    prefix: string,
    options: { cursor?: string | null; limit?: number } = {},
  ): Promise<ListPage<M>> {
    const res = await this.kv.list<M>({
      prefix,
      limit: options.limit ?? 1000,
      ...(options.cursor ? { cursor: options.cursor } : {}),
    });
    return {
      keys: res.keys.map((k) => ({ name: k.name, metadata: (k.metadata ?? null) as M | null })),
      cursor: res.list_complete ? null : res.cursor,
    };
  }
}
