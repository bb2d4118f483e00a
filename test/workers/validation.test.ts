import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { POINTER_TTL_MS } from '../../functions/services/serving';
import { MAX_BODY_BYTES, MAX_INSTANCES } from '../../functions/api/schemas';
import { call, startStudy, waitForStudy } from './api-helpers';

const MODEL = 'valid-digits';
const row = () => Array.from({ length: 64 }, (_, i) => i % 17);
const url = (path: string) => `http://edge.test${path}`;

beforeAll(async () => {
  await waitForStudy(await startStudy(MODEL, { trials: 1, budget: { epochs: 1, maxSeconds: 30 } }));
  await new Promise((r) => setTimeout(r, POINTER_TTL_MS + 100));
}, 120_000);

async function expectError(res: { status: number; body: any }, status: number, code: string, message?: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  if (message) expect(res.body.error.message).toMatch(message);
}

const predict = (body: unknown, model = MODEL) => call(`/v1/models/${model}/predict`, { method: 'POST', json: body });

describe('predict input validation', () => {
  it('wrong feature count names the instance', async () => {
    await expectError(
      await predict({ instances: [row(), [1, 2, 3]] }),
      422,
      'validation_failed',
      /instances\[1\]: expected 64 features, got 3/,
    );
  });
  it('unknown and missing feature names', async () => {
    await expectError(
      await predict({ instances: [{ nope: 1 }] }),
      422,
      'validation_failed',
      /instances\[0\]: unknown feature "nope"/,
    );
    await expectError(
      await predict({ instances: [{ px_0_0: 1 }] }),
      422,
      'validation_failed',
      /instances\[0\]: missing feature/,
    );
  });
  it('strings, null, booleans and nested arrays', async () => {
    for (const bad of ['1', null, true, [1]]) {
      const inst = row() as unknown[];
      inst[5] = bad;
      await expectError(await predict({ instances: [inst] }), 422, 'validation_failed', /instances\[0\]/);
    }
  });
  it('non-finite numbers (JSON has no NaN; huge literals overflow to Infinity)', async () => {
    const res = await exports.default.fetch(url(`/v1/models/${MODEL}/predict`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"instances":[[${row().slice(1).join(',')},1e400]]}`,
    });
    await expectError(
      { status: res.status, body: await res.json() },
      422,
      'validation_failed',
      /instances\[0\]\[63\]: .*(Infinity|finite)/,
    );
    const nan = await exports.default.fetch(url(`/v1/models/${MODEL}/predict`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"instances":[[NaN]]}`,
    });
    await expectError({ status: nan.status, body: await nan.json() }, 400, 'invalid_json');
  });
  it('empty and too many instances, missing instances, unknown keys, bad threshold/topK', async () => {
    await expectError(await predict({ instances: [] }), 422, 'validation_failed', /empty/);
    await expectError(
      await predict({ instances: Array.from({ length: MAX_INSTANCES + 1 }, () => [0]) }),
      422,
      'validation_failed',
      new RegExp(`at most ${MAX_INSTANCES}`),
    );
    await expectError(await predict({}), 422, 'validation_failed', /instances/);
    await expectError(await predict({ instances: [row()], extra: 1 }), 422, 'validation_failed');
    await expectError(await predict({ instances: [row()], threshold: 2 }), 422, 'validation_failed', /threshold/);
    await expectError(await predict({ instances: [row()], topK: 0 }), 422, 'validation_failed', /topK/);
    await expectError(await predict([row()]), 422, 'validation_failed');
  });
  it('malformed JSON, wrong content type, body over 1 MiB', async () => {
    const post = (body: BodyInit, type?: string) =>
      exports.default
        .fetch(url(`/v1/models/${MODEL}/predict`), {
          method: 'POST',
          headers: type ? { 'content-type': type } : {},
          body,
        })
        .then(async (r) => ({ status: r.status, body: await r.json() }));
    await expectError(await post('{"instances": [[1,2', 'application/json'), 400, 'invalid_json');
    await expectError(await post('instances=1', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    await expectError(await post('{"instances":[]}'), 415, 'unsupported_media_type');
    await expectError(
      await post(`{"instances":[[${'1,'.repeat(MAX_BODY_BYTES / 2)}1]]}`, 'application/json'),
      413,
      'payload_too_large',
    );
  });
  it('unknown model 404, known model with nothing promoted 503, bad names 422', async () => {
    await expectError(await predict({ instances: [row()] }, 'no-such-model'), 404, 'not_found', /unknown model/);
    await expectError(await call('/v1/models/no-such-model'), 404, 'not_found');
    await expectError(
      await call(`/v1/models/${MODEL}/versions/99/predict`, { method: 'POST', json: { instances: [row()] } }),
      404,
      'not_found',
      /no version 99/,
    );
    await expectError(await predict({ instances: [row()] }, 'Bad.Name'), 422, 'validation_failed');
    await expectError(
      await call('/v1/models/..%2f..%2fetc/predict', { method: 'POST', json: { instances: [row()] } }),
      422,
      'validation_failed',
    );
    await expectError(
      await call(`/v1/models/${MODEL}/versions/0/predict`, { method: 'POST', json: { instances: [row()] } }),
      422,
      'validation_failed',
    );
  });
});

describe('admin authentication on every mutating route', () => {
  const routes: [string, string, unknown][] = [
    [
      'POST',
      '/v1/studies',
      { dataset: 'digits', model: 'auth-check', trials: 1, budget: { epochs: 1, maxSeconds: 10 } },
    ],
    ['POST', `/v1/models/${MODEL}/rollback`, { version: 1 }],
  ];
  for (const [method, path, body] of routes) {
    it(`${method} ${path}: no token 401, wrong token 401, right token 2xx`, async () => {
      await expectError(await call(path, { method, json: body }), 401, 'unauthorized');
      await expectError(
        await call(path, { method, json: body, headers: { authorization: 'Bearer wrong-token' } }),
        401,
        'unauthorized',
      );
      await expectError(
        await call(path, { method, json: body, headers: { authorization: 'Basic abc' } }),
        401,
        'unauthorized',
      );
      const ok = await call(path, { method, json: body, admin: true });
      expect(ok.status, JSON.stringify(ok.body)).toBeGreaterThanOrEqual(200);
      expect(ok.status).toBeLessThan(300);
    });
  }
});

describe('study request validation', () => {
  it('rejects bad bodies with 4xx and the JSON error shape', async () => {
    const post = (json: unknown) => call('/v1/studies', { method: 'POST', admin: true, json });
    await expectError(await post({ dataset: 'nope' }), 404, 'not_found', /unknown dataset/);
    await expectError(await post({ trials: 0 }), 422, 'validation_failed', /trials/);
    await expectError(await post({ strategy: 'bayes' }), 422, 'validation_failed', /strategy/);
    await expectError(await post({ strategy: 'local' }), 422, 'validation_failed', /from/);
    await expectError(
      await post({ space: { learningRate: { type: 'float', low: 1, high: 0.1 } } }),
      422,
      'validation_failed',
      /space/,
    );
    await expectError(await post({ budget: { epochs: 5, maxSeconds: 1e9 } }), 422, 'validation_failed', /maxSeconds/);
    await expectError(await post({ from: 'never-started-study', strategy: 'local' }), 404, 'not_found');
    await expectError(await call('/v1/studies/never-started-study'), 404, 'not_found');
    await expectError(await call('/v1/studies/never-started-study/trials'), 404, 'not_found');
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3 document listing every route', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(res.body.paths);
    for (const p of [
      '/health',
      '/v1/models',
      '/v1/models/{name}',
      '/v1/models/{name}/versions',
      '/v1/models/{name}/predict',
      '/v1/models/{name}/versions/{version}/predict',
      '/v1/models/{name}/rollback',
      '/v1/studies',
      '/v1/studies/{id}',
      '/v1/studies/{id}/trials',
    ]) {
      expect(paths).toContain(p);
    }
    expect(res.body.paths['/v1/studies'].post.security).toEqual([{ apiKey: [] }]);
    expect(res.body.paths['/v1/studies'].post['x-scope']).toBe('admin');
    expect(res.body.components.schemas).toHaveProperty('PredictRequest');
  });
});
