/**
 * The live loop's routes: the review queue (list, label, discard), live quality, challenger traffic and
 * drift. Reviewers need the `review` scope (admin implies it); traffic is admin; quality and drift read.
 */
import type { Context } from 'hono';
import { DEFAULT_PSI_THRESHOLD } from '../../shared/monitor/psi';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { KvStore } from '../../shared/storage/kv-store';
import { modelOfReview } from '../durable/model-monitor';
import { monitorStub, registryStub } from '../durable/stubs';
import { decideOnReviews } from '../services/live-guard';
import type { ServingDeps } from '../services/serving';
import { forbidOtherModel } from './access';
import { ApiError } from './http/errors';
import {
  DriftQuery,
  DriftSchema,
  LabelRequestSchema,
  ReviewIdParam,
  ReviewPageSchema,
  ReviewQuery,
  ReviewResponseSchema,
  TrafficRequestSchema,
  TrafficSchema,
} from './live-schemas';
import { errors, jsonBody, jsonContent, newRouter, route, type AppEnv, unwrap } from './router';
// LiveQualitySchema is also part of a model's metadata, so it lives with the model schemas.
import { ErrorSchema, LiveQualitySchema, ModelNameParam } from './schemas';

const deps = (env: Env): ServingDeps => ({
  models: env.MODELS,
  store: new KvStore(env.KV),
  blobs: new R2BlobStore(env.DATASETS),
});

const notFound = jsonContent(ErrorSchema, 'Unknown model, version or review');

/** 404 unless the registry has a current version of `name`. */
async function currentOf(c: Context<AppEnv>, name: string) {
  const meta = await registryStub(c.env.MODELS, name).current();
  if (!meta) throw new ApiError('not_found', `model "${name}" has no promoted version`);
  return meta;
}

function after(c: Context<AppEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work.catch(() => undefined));
  } catch {
    // No execution context (a direct call in a test): the work still runs.
  }
}

const reviewsRoute = route('review', 'path', {
  method: 'get',
  path: '/models/{name}/reviews',
  summary: 'Pending review items of a model, oldest first, paged',
  request: { params: ModelNameParam, query: ReviewQuery },
  responses: { 200: jsonContent(ReviewPageSchema, 'A page of pending items'), ...errors({ 422: 'Invalid query' }) },
});
const labelRoute = route('review', 'checked', {
  method: 'post',
  path: '/reviews/{id}',
  summary: "Label a pending review item with one of its version's classes (once)",
  request: { params: ReviewIdParam, ...jsonBody(LabelRequestSchema) },
  responses: {
    200: jsonContent(ReviewResponseSchema, 'Labelled'),
    404: notFound,
    ...errors({ 409: 'Already labelled or discarded', 422: 'Not a class of the version' }),
  },
});
const discardRoute = route('review', 'checked', {
  method: 'delete',
  path: '/reviews/{id}',
  summary: 'Discard a pending review item',
  request: { params: ReviewIdParam },
  responses: {
    200: jsonContent(ReviewResponseSchema, 'Discarded'),
    404: notFound,
    ...errors({ 409: 'Already labelled or discarded' }),
  },
});
const qualityRoute = route('read', 'path', {
  method: 'get',
  path: '/models/{name}/quality',
  summary: 'Live quality per served version: accuracy on reviewed labels (audit sample apart), confidence, agreement',
  request: { params: ModelNameParam },
  responses: { 200: jsonContent(LiveQualitySchema, 'Live quality'), 404: notFound },
});
const trafficRoute = route('read', 'path', {
  method: 'get',
  path: '/models/{name}/traffic',
  summary: 'Challenger traffic, the live guard and its last decisions',
  request: { params: ModelNameParam },
  responses: { 200: jsonContent(TrafficSchema, 'Traffic'), 404: notFound },
});
const setTrafficRoute = route('admin', 'path', {
  method: 'put',
  path: '/models/{name}/traffic',
  summary: 'Send a share of predictions to a challenger version (canary) or let it predict unseen (shadow); admin',
  request: { params: ModelNameParam, ...jsonBody(TrafficRequestSchema) },
  responses: {
    200: jsonContent(TrafficSchema, 'Traffic set'),
    404: notFound,
    ...errors({ 409: 'Nothing promoted yet', 422: 'Invalid setting' }),
  },
});
const driftRoute = route('read', 'path', {
  method: 'get',
  path: '/models/{name}/drift',
  summary: "Population stability index of served inputs against the current version's training data, per feature",
  request: { params: ModelNameParam, query: DriftQuery },
  responses: { 200: jsonContent(DriftSchema, 'Drift'), 404: notFound },
});

async function trafficView(env: Env, name: string) {
  const registry = registryStub(env.MODELS, name);
  const [state, decisions] = await Promise.all([registry.serving(), registry.liveDecisions()]);
  const t = state.traffic;
  return {
    model: name,
    current: state.current?.version ?? null,
    traffic: t ? { challenger: t.challenger, mode: t.mode, percent: t.percent, since: t.since } : null,
    guard: state.guard,
    decisions,
  };
}

export function liveRoutes() {
  return newRouter()
    .openapi(reviewsRoute, async (c) => {
      const { name } = c.req.valid('param');
      const { kind, limit, after: from } = c.req.valid('query');
      return c.json(await monitorStub(c.env.MONITORS, name).pending(kind ?? null, limit, from ?? null), 200);
    })
    .openapi(labelRoute, async (c) => {
      const { id } = c.req.valid('param');
      const { label } = c.req.valid('json');
      const model = modelOfReview(id)!;
      forbidOtherModel(c.var.access, model);
      const monitor = monitorStub(c.env.MONITORS, model);
      const item = await monitor.get(id);
      if (!item) throw new ApiError('not_found', `no review ${id}`);
      const version = await registryStub(c.env.MODELS, model).version(item.version);
      if (!version) throw new ApiError('not_found', `model "${model}" has no version ${item.version}`);
      if (!version.classNames.includes(label))
        throw new ApiError(
          'validation_failed',
          `label: "${label.slice(0, 64)}" is not a class of ${model} v${item.version} (${version.classNames.slice(0, 20).join(', ')})`,
        );
      const labelled = unwrap(await monitor.label(id, label, c.var.access.principal?.keyId ?? 'open'));
      // Enough labels may now decide a challenger or a rollback; the reviewer does not wait for it.
      after(c, decideOnReviews(c.env, c.var.serving, deps(c.env), model));
      return c.json(labelled, 200);
    })
    .openapi(discardRoute, async (c) => {
      const { id } = c.req.valid('param');
      const model = modelOfReview(id)!;
      forbidOtherModel(c.var.access, model);
      return c.json(
        unwrap(await monitorStub(c.env.MONITORS, model).discard(id, c.var.access.principal?.keyId ?? 'open')),
        200,
      );
    })
    .openapi(qualityRoute, async (c) => {
      const { name } = c.req.valid('param');
      await currentOf(c, name);
      return c.json(await monitorStub(c.env.MONITORS, name).quality(), 200);
    })
    .openapi(trafficRoute, async (c) => {
      const { name } = c.req.valid('param');
      await currentOf(c, name);
      return c.json(await trafficView(c.env, name), 200);
    })
    .openapi(setTrafficRoute, async (c) => {
      const { name } = c.req.valid('param');
      const body = c.req.valid('json');
      const setting =
        body.challenger === null ? null : { challenger: body.challenger, mode: body.mode, percent: body.percent };
      unwrap(await registryStub(c.env.MODELS, name).setTraffic(setting, body.guard ?? null));
      c.var.serving.forget(name);
      return c.json(await trafficView(c.env, name), 200);
    })
    .openapi(driftRoute, async (c) => {
      const { name } = c.req.valid('param');
      const { threshold } = c.req.valid('query');
      const meta = await currentOf(c, name);
      return c.json(await monitorStub(c.env.MONITORS, name).drift(meta, threshold ?? DEFAULT_PSI_THRESHOLD), 200);
    });
}
