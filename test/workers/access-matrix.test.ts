import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasScope, type AccessMode, type Scope } from '../../shared/access/scopes';
import { callIn, createKey, ROOT_TOKEN } from './access-helpers';

/**
 * The scope x route matrix, generated from /openapi.json: every operation, every kind of caller, both
 * access modes. Each operation needs a fixture below that answers 2xx when the caller may call it, so a
 * route added without one (or without a scope) fails here.
 */

interface Op {
  method: string;
  path: string;
  scope: Scope | 'any' | null;
  models: 'path' | 'checked' | 'all' | null;
}

interface Caller {
  label: string;
  token: string | null;
  /** null: not a valid key (none sent, unknown, revoked). */
  scopes: Scope[] | null;
  models: string[] | null;
}

const A = 'acc-a';
const B = 'acc-b';
const SETTINGS_DATASET = 'acc-data';
let studyA = '';
let sessionA = '';
let counter = 0;
const started: string[] = [];
const ROW = Array.from({ length: 64 }, (_, i) => (i * 7) % 17);

function csv(rows = 40): string {
  const lines = ['a,b,label'];
  for (let i = 0; i < rows; i++) lines.push(`${i % 7},${(i * 3) % 11},${i % 2 ? 'x' : 'y'}`);
  return `${lines.join('\n')}\n`;
}

async function root(path: string, init: { method?: string; json?: unknown; body?: string; type?: string } = {}) {
  const res = await callIn('keys', path, {
    method: init.method ?? 'GET',
    token: ROOT_TOKEN,
    json: init.json,
    body: init.body,
    headers: init.type ? { 'content-type': init.type } : {},
  });
  expect(res.status, `${init.method ?? 'GET'} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

async function waitStudy(id: string) {
  for (let i = 0; i < 600; i++) {
    const view = await root(`/v1/studies/${id}`);
    if (view.status === 'complete') return view;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`study ${id} did not complete`);
}

const study = (model: string) => ({
  dataset: 'digits',
  model,
  trials: 1,
  seed: 3,
  parallelism: 1,
  budget: { epochs: 1, maxSeconds: 30 },
});

/** A session whose slices never run on their own (an hour apart). */
const sessionBody = () => ({
  dataset: 'digits',
  model: `acc-x${++counter}`,
  config: { depth: 1, width: 16, epochs: 50 },
  slice: { epochs: 1, intervalMs: 3_600_000 },
});

interface Request {
  path: string;
  json?: unknown;
  body?: string;
  type?: string;
}

/** For each operation: a request that succeeds when the caller is allowed; `prepare` only runs then. */
const FIXTURES: Record<string, (allowed: boolean) => Promise<Request>> = {
  'GET /health': async () => ({ path: '/health' }),
  'GET /ping': async () => ({ path: '/ping' }),
  'GET /v1/models': async () => ({ path: '/v1/models' }),
  'GET /v1/models/{name}': async () => ({ path: `/v1/models/${A}` }),
  'GET /v1/models/{name}/versions': async () => ({ path: `/v1/models/${A}/versions` }),
  'GET /v1/models/{name}/evaluation': async () => ({ path: `/v1/models/${A}/evaluation` }),
  'POST /v1/models/{name}/predict': async () => ({ path: `/v1/models/${A}/predict`, json: { instances: [ROW] } }),
  'POST /v1/models/{name}/versions/{version}/predict': async () => ({
    path: `/v1/models/${A}/versions/1/predict`,
    json: { instances: [ROW] },
  }),
  'POST /v1/models/{name}/rollback': async () => ({ path: `/v1/models/${A}/rollback`, json: { version: 1 } }),
  'POST /v1/studies': async (allowed) => {
    const model = `acc-s${++counter}`;
    if (allowed) started.push(model);
    return { path: '/v1/studies', json: study(model) };
  },
  'GET /v1/studies': async () => ({ path: '/v1/studies' }),
  'GET /v1/studies/{id}': async () => ({ path: `/v1/studies/${studyA}` }),
  'GET /v1/studies/{id}/trials': async () => ({ path: `/v1/studies/${studyA}/trials` }),
  'POST /v1/studies/{id}/promote': async (allowed) => {
    if (!allowed) return { path: `/v1/studies/${studyA}/promote`, json: {} };
    // A finished study whose best trial the guard refused (no challenger beats a champion by more than 1).
    const id = (await root('/v1/studies', { method: 'POST', json: { ...study(A), margin: 1 } })).id;
    expect((await waitStudy(id)).promotion.promoted).toBe(false);
    return { path: `/v1/studies/${id}/promote`, json: {} };
  },
  'POST /v1/sessions': async () => ({ path: '/v1/sessions', json: sessionBody() }),
  'GET /v1/sessions': async () => ({ path: '/v1/sessions' }),
  'GET /v1/sessions/{id}': async () => ({ path: `/v1/sessions/${sessionA}` }),
  'POST /v1/sessions/{id}/adjust': async () => ({
    path: `/v1/sessions/${sessionA}/adjust`,
    json: { learningRate: 0.001 },
  }),
  'POST /v1/sessions/{id}/pause': async () => ({ path: `/v1/sessions/${sessionA}/pause`, json: {} }),
  'POST /v1/sessions/{id}/resume': async () => ({ path: `/v1/sessions/${sessionA}/resume`, json: {} }),
  'POST /v1/sessions/{id}/promote': async () => ({ path: `/v1/sessions/${sessionA}/promote`, json: {} }),
  'DELETE /v1/sessions/{id}': async (allowed) => {
    if (!allowed) return { path: `/v1/sessions/${sessionA}` };
    return { path: `/v1/sessions/${(await root('/v1/sessions', { method: 'POST', json: sessionBody() })).id}` };
  },
  'PUT /v1/datasets/{name}': async () => ({ path: `/v1/datasets/acc-up${++counter}`, body: csv(), type: 'text/csv' }),
  'GET /v1/datasets': async () => ({ path: '/v1/datasets' }),
  'GET /v1/datasets/{name}': async () => ({ path: '/v1/datasets/digits' }),
  'PUT /v1/datasets/{name}/settings': async () => ({
    path: `/v1/datasets/${SETTINGS_DATASET}/settings`,
    json: { schedule: null, space: {} },
  }),
  'DELETE /v1/datasets/{name}': async (allowed) => {
    const name = `acc-del${++counter}`;
    if (allowed) await root(`/v1/datasets/${name}`, { method: 'PUT', body: csv(), type: 'text/csv' });
    return { path: `/v1/datasets/${name}` };
  },
  'POST /v1/keys': async () => ({ path: '/v1/keys', json: { name: 'made-in-matrix', scopes: ['read'] } }),
  'GET /v1/keys': async () => ({ path: '/v1/keys' }),
  'DELETE /v1/keys/{id}': async (allowed) => {
    if (!allowed) return { path: '/v1/keys/0123456789abcdef' };
    const made = await root('/v1/keys', { method: 'POST', json: { name: 'to-revoke', scopes: ['read'] } });
    return { path: `/v1/keys/${made.key.id}` };
  },
  'GET /v1/audit': async () => ({ path: '/v1/audit' }),
  'GET /v1/keys/self': async () => ({ path: '/v1/keys/self' }),
  'GET /v1/models/{name}/reviews': async () => ({ path: `/v1/models/${A}/reviews` }),
  'POST /v1/reviews/{id}': async (allowed) => ({
    path: `/v1/reviews/${allowed ? await pendingReviewOfA() : `${A}.0123456789abcdef01234567`}`,
    json: { label: '3' },
  }),
  'DELETE /v1/reviews/{id}': async (allowed) => ({
    path: `/v1/reviews/${allowed ? await pendingReviewOfA() : `${A}.0123456789abcdef01234567`}`,
  }),
  'GET /v1/models/{name}/quality': async () => ({ path: `/v1/models/${A}/quality` }),
  'GET /v1/models/{name}/traffic': async () => ({ path: `/v1/models/${A}/traffic` }),
  'PUT /v1/models/{name}/traffic': async () => ({ path: `/v1/models/${A}/traffic`, json: { challenger: null } }),
  'GET /v1/models/{name}/drift': async () => ({ path: `/v1/models/${A}/drift` }),
};

/**
 * A fresh pending review item of model A: a prediction of a new input, flagged by threshold 1. The
 * matrix predicts fast enough to exhaust the isolate's review-write gate (items are then sampled out
 * and counted as skipped), so it tries again after the gate refills.
 */
async function pendingReviewOfA(): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    // A nearly blank image (counter in base 17 in three corner pixels): an unsure prediction, below threshold 1.
    const n = ++counter;
    const input = Array.from({ length: 64 }, (_, i) => (i < 3 ? Math.floor(n / 17 ** i) % 17 : 0));
    await root(`/v1/models/${A}/predict`, { method: 'POST', json: { instances: [input], threshold: 1 } });
    for (let after: string | null = null; ;) {
      const page: any = await root(`/v1/models/${A}/reviews?limit=100${after ? `&after=${after}` : ''}`);
      const hit = page.reviews.find((r: any) => JSON.stringify(r.input) === JSON.stringify(input));
      if (hit) return hit.id as string;
      if (!page.next) break;
      after = page.next;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `no flagged prediction reached the queue: ${JSON.stringify(await root(`/v1/models/${A}/quality`)).slice(0, 400)}`,
  );
}

const ops: Op[] = [];
let callers: Caller[] = [];

/** What a caller must get: 'ok' (2xx), 401 or 403. */
function expected(op: Op, mode: AccessMode, who: Caller): 'ok' | 401 | 403 {
  if (!op.scope) return 'ok';
  const isPublic = mode === 'open' && (op.scope === 'read' || op.scope === 'predict' || op.scope === 'any');
  if (!who.scopes) return who.token === null && isPublic ? 'ok' : 401;
  if (isPublic || op.scope === 'any') return 'ok';
  if (!hasScope({ keyId: who.label, scopes: who.scopes, models: who.models }, op.scope)) return 403;
  if (who.models !== null && op.models === 'all') return 403;
  return 'ok';
}

beforeAll(async () => {
  const doc = await callIn('keys', '/openapi.json');
  expect(doc.status).toBe(200);
  for (const [path, item] of Object.entries(doc.body.paths as Record<string, Record<string, any>>))
    for (const [method, op] of Object.entries(item))
      ops.push({ method: method.toUpperCase(), path, scope: op['x-scope'] ?? null, models: op['x-models'] ?? null });

  // Two served models, a study and a trained session of model A, a dataset for the settings route.
  const [a, b] = await Promise.all(
    [A, B].map(async (m) => (await root('/v1/studies', { method: 'POST', json: study(m) })).id),
  );
  studyA = a;
  for (const id of [a, b]) expect((await waitStudy(id)).promotion.promoted).toBe(true);
  const session = await root('/v1/sessions', {
    method: 'POST',
    json: {
      dataset: 'digits',
      model: A,
      config: { depth: 1, width: 16, epochs: 50 },
      slice: { epochs: 1, intervalMs: 3_600_000 },
    },
  });
  sessionA = session.id;
  expect(await runDurableObjectAlarm(env.SESSIONS.get(env.SESSIONS.idFromName(sessionA)))).toBe(true);
  await root(`/v1/datasets/${SETTINGS_DATASET}`, { method: 'PUT', body: csv(), type: 'text/csv' });

  const revoked = await createKey({ scopes: ['admin'] });
  await root(`/v1/keys/${revoked.id}`, { method: 'DELETE' });
  const key = async (label: string, scopes: Scope[], models: string[] | null = null): Promise<Caller> => ({
    label,
    token: (await createKey({ scopes, models, name: label })).token,
    scopes,
    models,
  });
  callers = [
    { label: 'no key', token: null, scopes: null, models: null },
    { label: 'unknown key', token: `etk_0123456789abcdef_${'A'.repeat(43)}`, scopes: null, models: null },
    { label: 'not a key', token: 'not-a-key', scopes: null, models: null },
    { label: 'revoked admin key', token: revoked.token, scopes: null, models: null },
    { label: 'root (ADMIN_TOKEN)', token: ROOT_TOKEN, scopes: ['admin'], models: null },
    await key('admin key', ['admin']),
    await key('read key', ['read']),
    await key('predict key', ['predict']),
    await key('review key', ['review']),
    await key(`read+predict key for ${A}`, ['read', 'predict'], [A]),
    await key(`admin key for ${A}`, ['admin'], [A]),
  ];
}, 240_000);

afterAll(async () => {
  // Studies started by allowed calls: let them finish inside this file's storage.
  const listed = (await root('/v1/studies')).studies as { id: string; model: string }[];
  for (const s of listed.filter((x) => started.includes(x.model))) await waitStudy(s.id);
}, 240_000);

describe('the OpenAPI document declares access for every operation', () => {
  it('every operation but liveness has a scope, security and a model rule; fixtures cover every operation', () => {
    expect(ops.length).toBeGreaterThanOrEqual(25);
    const unscoped = ops.filter((o) => !o.scope).map((o) => `${o.method} ${o.path}`);
    expect(unscoped.sort()).toEqual(['GET /health', 'GET /ping']);
    for (const o of ops) {
      expect(FIXTURES[`${o.method} ${o.path}`], `no matrix fixture for ${o.method} ${o.path}`).toBeDefined();
      if (o.scope) expect(['path', 'checked', 'all']).toContain(o.models);
    }
    // Every mutating route is admin-only, but labelling and discarding review items (the review scope).
    for (const o of ops.filter((x) => x.method !== 'GET' && !x.path.endsWith('/predict')))
      expect(o.scope, `${o.method} ${o.path}`).toBe(o.path.startsWith('/v1/reviews/') ? 'review' : 'admin');
  });

  it('security and x-scope in both modes: read/predict accept no key only in open mode', async () => {
    for (const mode of ['open', 'keys'] as const) {
      const doc = (await callIn(mode, '/openapi.json')).body;
      expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
      for (const o of ops.filter((x) => x.scope)) {
        const op = doc.paths[o.path][o.method.toLowerCase()];
        const isPublic = mode === 'open' && (o.scope === 'read' || o.scope === 'predict' || o.scope === 'any');
        expect(op.security, `${mode} ${o.method} ${o.path}`).toEqual(
          isPublic ? [{ apiKey: [] }, {}] : [{ apiKey: [] }],
        );
        expect(Object.keys(op.responses)).toEqual(
          expect.arrayContaining(isPublic || o.scope === 'any' ? ['401', '429'] : ['401', '403', '429']),
        );
        // A route about the caller itself never refuses a valid key.
        if (o.scope === 'any') expect(Object.keys(op.responses)).not.toContain('403');
      }
    }
  });
});

describe.each(['open', 'keys'] as const)('ACCESS_MODE=%s: every operation x every caller', (mode) => {
  it('401 without a valid key where one is needed, 403 without the scope or model, 2xx otherwise', async () => {
    const table: string[] = [];
    for (const op of ops) {
      for (const who of callers) {
        const want = expected(op, mode, who);
        const req = await FIXTURES[`${op.method} ${op.path}`]!(want === 'ok');
        const res = await callIn(mode, req.path, {
          method: op.method,
          token: who.token,
          json: req.json,
          body: req.body,
          headers: req.type ? { 'content-type': req.type } : {},
        });
        const got = res.status < 300 ? 'ok' : res.status;
        table.push(`${op.method} ${op.path} | ${who.label} | want ${want} | got ${res.status}`);
        expect(
          got,
          `${mode}: ${op.method} ${req.path} as ${who.label} -> ${JSON.stringify(res.body).slice(0, 300)}`,
        ).toBe(want);
        if (want !== 'ok') expect(res.body.error.code).toBe(want === 401 ? 'unauthorized' : 'forbidden');
      }
    }
    expect(table.length).toBe(ops.length * callers.length);
  }, 300_000);
});

describe('model-limited keys', () => {
  it('cannot read or predict another model, and listings show only their models', async () => {
    const limited = callers.find((c) => c.label.startsWith('read+predict key for'))!;
    for (const [method, path, json] of [
      ['GET', `/v1/models/${B}`, undefined],
      ['GET', `/v1/models/${B}/versions`, undefined],
      ['GET', `/v1/models/${B}/evaluation`, undefined],
      ['POST', `/v1/models/${B}/predict`, { instances: [ROW] }],
      ['POST', `/v1/models/${B}/versions/1/predict`, { instances: [ROW] }],
    ] as const) {
      const res = await callIn('keys', path, { method, token: limited.token, json });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    const studyB = ((await root('/v1/studies')).studies as { id: string; model: string }[]).find((s) => s.model === B)!;
    expect((await callIn('keys', `/v1/studies/${studyB.id}`, { token: limited.token })).status).toBe(403);
    expect((await callIn('keys', `/v1/studies/${studyB.id}/trials`, { token: limited.token })).status).toBe(403);
    const models = (await callIn('keys', '/v1/models', { token: limited.token })).body.models as { name: string }[];
    expect(models.map((m) => m.name)).toEqual([A]);
    const studies = (await callIn('keys', '/v1/studies', { token: limited.token })).body.studies as { model: string }[];
    expect(studies.length).toBeGreaterThan(0);
    expect(new Set(studies.map((s) => s.model))).toEqual(new Set([A]));
    const sessions = (await callIn('keys', '/v1/sessions', { token: limited.token })).body.sessions as {
      model: string;
    }[];
    expect(new Set(sessions.map((s) => s.model))).toEqual(new Set([A]));
    // The unlimited read key sees both.
    const reader = callers.find((c) => c.label === 'read key')!;
    const all = (await callIn('keys', '/v1/models', { token: reader.token })).body.models as { name: string }[];
    expect(all.map((m) => m.name)).toEqual(expect.arrayContaining([A, B]));
  });
});

describe('the audit trail', () => {
  it('records every admin action of the matrix with the key id, time, route and target, newest first', async () => {
    const entries: any[] = [];
    let before: number | null = null;
    do {
      const page: any = await root(`/v1/audit?limit=200${before ? `&before=${before}` : ''}`);
      entries.push(...page.entries);
      before = page.next;
    } while (before !== null);
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((x, y) => y - x));
    const adminKey = callers.find((c) => c.label === 'admin key')!;
    const keys = (await root('/v1/keys')).keys as { id: string; name: string }[];
    const adminKeyId = keys.find((k) => k.name === adminKey.label)!.id;
    for (const o of ops.filter((x) => x.scope === 'admin' && x.method !== 'GET')) {
      const action = `${o.method} ${o.path.replace(/\{([^}]+)\}/g, ':$1')}`;
      for (const keyId of ['root', adminKeyId]) {
        const hit = entries.find((e) => e.action === action && e.keyId === keyId && e.status < 300);
        expect(hit, `${action} by ${keyId}`).toBeDefined();
        expect(Date.parse(hit.at)).toBeGreaterThan(Date.now() - 3_600_000);
        expect(hit.target).toMatch(/^\/v1\//);
      }
    }
    // Creations name what they created.
    const studyStarts = entries.filter((e) => e.action === 'POST /v1/studies' && e.status === 202);
    expect(studyStarts.filter((e) => /^\/v1\/studies\/acc-s\d+-/.test(e.target)).length).toBe(started.length);
    // Non-admin requests are not audited, and nothing was recorded for refused (401/403) calls.
    expect(entries.every((e) => !e.action.startsWith('GET '))).toBe(true);
    expect(entries.every((e) => e.status !== 401 && e.status !== 403)).toBe(true);
  });
});
