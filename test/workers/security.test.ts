import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tokensEqual } from '../../functions/api/http/auth';
import { call } from './api-helpers';

type Operation = { method: string; path: string; security?: unknown[]; scope?: string };

async function operations(): Promise<Operation[]> {
  const doc = (await call('/openapi.json')).body;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(
    doc.paths as Record<string, Record<string, { security?: unknown[]; 'x-scope'?: string }>>,
  )) {
    for (const [method, op] of Object.entries(item))
      ops.push({ method: method.toUpperCase(), path, security: op.security, scope: op['x-scope'] });
  }
  return ops;
}

/** A concrete URL for a templated path; names that exist nowhere are fine, auth comes first. */
const concrete = (path: string) =>
  path.replace('{name}', 'sec-model').replace('{version}', '1').replace('{id}', 'sec-id');
const isPredict = (path: string) => path.endsWith('/predict');

describe('every mutating route requires an admin key (the ADMIN_TOKEN root key or an admin-scoped API key)', () => {
  it('the OpenAPI document marks every non-GET route except predict as admin-only (review items: the review scope)', async () => {
    const ops = await operations();
    const mutating = ops.filter((o) => o.method !== 'GET' && !isPredict(o.path));
    expect(mutating.length).toBeGreaterThanOrEqual(5);
    for (const o of mutating) {
      expect(o.security, `${o.method} ${o.path}`).toEqual([{ apiKey: [] }]);
      // Labelling and discarding review items (issue 15) is what the review scope is for; still never public.
      expect(o.scope, `${o.method} ${o.path}`).toBe(o.path.startsWith('/v1/reviews/') ? 'review' : 'admin');
    }
  });

  it('no token and a wrong token answer 401 on every one of them, before any validation', async () => {
    const ops = (await operations()).filter((o) => o.method !== 'GET' && !isPredict(o.path));
    for (const o of ops) {
      for (const headers of [
        {},
        { authorization: 'Bearer not-the-token' },
        { authorization: `Bearer ${env.ADMIN_TOKEN}x` },
        { authorization: env.ADMIN_TOKEN },
      ] as Record<string, string>[]) {
        const res = await call(concrete(o.path), { method: o.method, headers, json: {} });
        expect(res.status, `${o.method} ${o.path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      }
    }
  });

  it('token comparison: equal only for the identical token, any length', async () => {
    expect(await tokensEqual('abc', 'abc')).toBe(true);
    expect(await tokensEqual('abc', 'abd')).toBe(false);
    expect(await tokensEqual('abc', 'abcd')).toBe(false);
    expect(await tokensEqual('', 'abc')).toBe(false);
  });
});

describe('tokens never reach the logs', () => {
  afterEach(() => vi.restoreAllMocks());
  it('neither the admin token nor a wrong one appears in any log line', async () => {
    const lines: string[] = [];
    for (const fn of ['log', 'error', 'warn', 'info'] as const)
      vi.spyOn(console, fn).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    const wrong = 'Wrong-Token-0123456789';
    await call('/v1/studies', { method: 'POST', headers: { authorization: `Bearer ${wrong}` }, json: {} });
    await call('/v1/studies', { method: 'POST', admin: true, json: { dataset: 'sec-logs', trials: 1 } });
    await call('/v1/datasets/sec-logs', { method: 'DELETE', admin: true });
    await call('/v1/models/sec-logs/rollback', { method: 'POST', admin: true, json: { version: 1 } });
    for (const line of lines) {
      expect(line).not.toContain(env.ADMIN_TOKEN);
      expect(line).not.toContain(wrong);
    }
  });
});

describe('CORS opens the public surface only', () => {
  it('reads and predictions allow any origin; admin routes give no CORS headers', async () => {
    const { exports } = await import('cloudflare:workers');
    const get = await exports.default.fetch('http://edge.test/v1/models', {
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
    const predictPreflight = await exports.default.fetch('http://edge.test/v1/models/digits/predict', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://elsewhere.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(predictPreflight.headers.get('access-control-allow-origin')).toBe('*');
    for (const [path, method] of [
      ['/v1/studies', 'POST'],
      ['/v1/models/digits/rollback', 'POST'],
      ['/v1/datasets/x', 'PUT'],
      ['/v1/datasets/x', 'DELETE'],
    ] as const) {
      const res = await exports.default.fetch(`http://edge.test${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://elsewhere.example',
          'access-control-request-method': method,
          'access-control-request-headers': 'content-type,authorization',
        },
      });
      expect(res.headers.get('access-control-allow-origin'), `${method} ${path}`).toBeNull();
      await res.arrayBuffer();
    }
    const admin = await exports.default.fetch('http://edge.test/v1/studies', {
      method: 'POST',
      headers: { origin: 'https://elsewhere.example', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(admin.status).toBe(401);
    expect(admin.headers.get('access-control-allow-origin')).toBeNull();
  });
});
