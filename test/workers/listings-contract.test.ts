import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { D1Listings, MemoryListings, type Listings } from '../../shared/storage/listings';

/** The one contract both listing stores pass; D1 runs against the real local database. */
function contract(name: string, make: () => Listings) {
  describe(`Listings contract: ${name}`, () => {
    it('lists a kind newest first with ids; an upsert replaces the line and is visible at once', async () => {
      const l = make();
      const tag = crypto.randomUUID();
      const line = (n: number, status: string) => ({
        createdAt: `2026-0${n}-01T00:00:00.000Z`,
        status,
        dataset: `ds-${tag}`,
        headline: { n, status, tag },
      });
      await l.upsert('study', `a-${tag}`, line(1, 'running'));
      await l.upsert('study', `b-${tag}`, line(3, 'running'));
      await l.upsert('study', `c-${tag}`, line(2, 'complete'));
      await l.upsert('session', `s-${tag}`, line(4, 'running'));
      const mine = async () =>
        (await l.list<{ n: number; status: string; tag: string }>('study')).filter((x) => x.tag === tag);
      expect((await mine()).map((x) => [x.id, x.n])).toEqual([
        [`b-${tag}`, 3],
        [`c-${tag}`, 2],
        [`a-${tag}`, 1],
      ]);
      await l.upsert('study', `a-${tag}`, line(1, 'complete'));
      expect((await mine()).find((x) => x.id === `a-${tag}`)!.status).toBe('complete');
    });

    it('answers which items have a status, on a dataset or anywhere, oldest first', async () => {
      const l = make();
      const tag = crypto.randomUUID();
      const put = (id: string, n: number, status: string, dataset: string) =>
        l.upsert('study', `${id}-${tag}`, {
          createdAt: `2026-0${n}-01T00:00:00.000Z`,
          status,
          dataset: `${dataset}-${tag}`,
          headline: {},
        });
      await put('x', 2, 'running', 'iris');
      await put('y', 1, 'running', 'wine');
      await put('z', 3, 'complete', 'iris');
      expect(await l.withStatus('study', 'running', `iris-${tag}`)).toEqual([`x-${tag}`]);
      expect(await l.withStatus('study', 'running', `none-${tag}`)).toEqual([]);
      const running = (await l.withStatus('study', 'running')).filter((id) => id.endsWith(tag));
      expect(running).toEqual([`y-${tag}`, `x-${tag}`]);
      await put('x', 2, 'complete', 'iris');
      expect(await l.withStatus('study', 'running', `iris-${tag}`)).toEqual([]);
    });

    it('removes one line of one kind, idempotently; the same id of another kind stays', async () => {
      const l = make();
      const tag = crypto.randomUUID();
      const line = { createdAt: '2026-05-01T00:00:00.000Z', status: 'paused', dataset: `d-${tag}`, headline: { tag } };
      await l.upsert('session', `s-${tag}`, line);
      await l.upsert('session', `t-${tag}`, line);
      await l.upsert('study', `s-${tag}`, line);
      await l.remove('session', `s-${tag}`);
      await l.remove('session', `s-${tag}`);
      const ids = async (kind: 'study' | 'session') =>
        (await l.list<{ tag: string }>(kind)).filter((x) => x.tag === tag).map((x) => x.id);
      expect(await ids('session')).toEqual([`t-${tag}`]);
      expect(await ids('study')).toEqual([`s-${tag}`]);
      expect(await l.withStatus('session', 'paused', `d-${tag}`)).toEqual([`t-${tag}`]);
    });
  });
}

contract('D1Listings (local D1)', () => new D1Listings(env.DB));
contract('MemoryListings', () => new MemoryListings());
