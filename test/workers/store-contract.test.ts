import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { KvStore } from '../../shared/storage/kv-store';
import { MemoryStore } from '../../shared/storage/memory-store';
import { getJson, listAll, listIndex, putJson, type Store } from '../../shared/storage/store';

/** The one contract every Store implementation passes; KV runs against the real local namespace. */
function contract(name: string, make: () => Store) {
  describe(`Store contract: ${name}`, () => {
    const ns = () => `contract-${crypto.randomUUID()}/`;

    it('round-trips text, JSON and bytes; missing keys are null', async () => {
      const s = make();
      const p = ns();
      expect(await s.getText(`${p}missing`)).toBeNull();
      expect(await s.getBytes(`${p}missing`)).toBeNull();
      await s.put(`${p}t`, 'héllo');
      await putJson(s, `${p}j`, { a: [1, 2], b: 'x' });
      const bytes = new Uint8Array([0, 1, 2, 255]);
      await s.put(`${p}b`, bytes);
      expect(await s.getText(`${p}t`)).toBe('héllo');
      expect(await getJson(s, `${p}j`)).toEqual({ a: [1, 2], b: 'x' });
      expect(new Uint8Array((await s.getBytes(`${p}b`))!)).toEqual(bytes);
    });

    it('stores a copy: mutating the input after put changes nothing', async () => {
      const s = make();
      const p = ns();
      const bytes = new Uint8Array([1, 2, 3]);
      await s.put(`${p}b`, bytes);
      bytes[0] = 9;
      expect(new Uint8Array((await s.getBytes(`${p}b`))!)).toEqual(new Uint8Array([1, 2, 3]));
    });

    it('overwrites and deletes (a second apart: KV takes one write per key per second)', async () => {
      const s = make();
      const p = ns();
      await s.put(`${p}k`, 'one');
      await s.put(`${p}d`, 'doomed');
      await new Promise((r) => setTimeout(r, 1100));
      await s.put(`${p}k`, 'two');
      await s.delete(`${p}d`);
      // First reads of these keys: no location has cached an older value.
      expect(await s.getText(`${p}k`)).toBe('two');
      expect(await s.getText(`${p}d`)).toBeNull();
      await s.delete(`${p}never`);
    });

    it('lists by prefix in order with metadata, paging with cursors', async () => {
      const s = make();
      const p = ns();
      for (const k of ['c', 'a', 'b', 'd', 'e']) await s.put(`${p}x/${k}`, k, { metadata: { k } });
      await s.put(`${p}y/other`, 'no');
      const first = await s.list(`${p}x/`, { limit: 2 });
      expect(first.keys.map((k) => k.name)).toEqual([`${p}x/a`, `${p}x/b`]);
      expect(first.keys[0]!.metadata).toEqual({ k: 'a' });
      expect(first.cursor).not.toBeNull();
      const second = await s.list(`${p}x/`, { limit: 2, cursor: first.cursor });
      expect(second.keys.map((k) => k.name)).toEqual([`${p}x/c`, `${p}x/d`]);
      const all = await listAll(s, `${p}x/`);
      expect(all.map((k) => k.name)).toEqual(['a', 'b', 'c', 'd', 'e'].map((k) => `${p}x/${k}`));
      expect((await s.list(`${p}none/`)).keys).toEqual([]);
      await s.put(`${p}nometa`, 'v');
      expect((await s.list(`${p}nometa`)).keys[0]!.metadata).toBeNull();
    });

    it('listIndex: items of an index newest first, with their ids, skipping keys without metadata', async () => {
      const s = make();
      const p = ns();
      await s.put(`${p}a`, '{}', { metadata: { createdAt: '2026-01-01T00:00:00.000Z', n: 1 } });
      await s.put(`${p}b`, '{}', { metadata: { createdAt: '2026-03-01T00:00:00.000Z', n: 2 } });
      await s.put(`${p}c`, '{}');
      await s.put(`${p}d`, '{}', { metadata: { createdAt: '2026-02-01T00:00:00.000Z', n: 3 } });
      const items = await listIndex<{ createdAt: string; n: number }>(s, p);
      expect(items.map((i) => [i.id, i.n])).toEqual([
        ['b', 2],
        ['d', 3],
        ['a', 1],
      ]);
    });

    it('refuses metadata over 1,024 bytes', async () => {
      const s = make();
      await expect(s.put(`${ns()}big`, 'v', { metadata: { blob: 'x'.repeat(1100) } })).rejects.toThrow(/metadata/);
    });
  });
}

contract('KvStore (local Workers KV)', () => new KvStore(env.KV));
contract('MemoryStore', () => new MemoryStore());
