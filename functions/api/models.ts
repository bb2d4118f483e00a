/**
 * /v1/models: listing, metadata, versions, rollback (admin) and prediction (current or pinned version).
 */
import { type z } from '@hono/zod-openapi';
import { inputSchema } from '../../models/preprocess';
import type { Context } from 'hono';
import { getDatasetMeta, listDatasets } from '../../shared/datasets';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { ApiError } from './http/errors';
import { KvStore } from '../../shared/storage/kv-store';
import type { ModelHeadline } from '../../shared/storage/headlines';
import { D1Listings } from '../../shared/storage/listings';
import type { ModelVersion } from '../../shared/study/types';
import { catalogStub, registryStub } from '../durable/stubs';
import { formatPredictions, toMatrix } from '../services/predict';
import type { LoadedModel, ServingDeps } from '../services/serving';
import { canSeeModel } from './access';
import { errors, jsonBody, jsonContent, newRouter, route, type AppEnv, unwrap } from './router';
import { shadowPredict } from '../services/shadow';
import { versionSource } from '../../shared/study/version-source';
import {
  EvaluationSchema,
  ModelListSchema,
  ModelMetadataSchema,
  ModelNameParam,
  PredictRequestSchema,
  PredictResponseSchema,
  RollbackRequestSchema,
  RollbackResponseSchema,
  VersionListSchema,
  VersionParams,
} from './schemas';

/** The error answers the model routes document (one map, shared as it always was). */
const modelErrors = errors({
  404: 'Unknown model or version',
  422: 'Invalid input',
  503: 'Known model, nothing promoted yet',
});

const deps = (env: Env): ServingDeps => ({
  models: env.MODELS,
  store: new KvStore(env.KV),
  blobs: new R2BlobStore(env.DATASETS),
});

/** 404 for a name nobody knows, 503 for a model that exists (dataset or registry) but has no version yet. */
async function notServable(env: Env, name: string): Promise<never> {
  const state = await registryStub(env.MODELS, name).state();
  // Known: the registry has seen a study for it, or a dataset of that name exists (its default model).
  if (state.model || (await getDatasetMeta(catalogStub(env.DATASET_CATALOG), name))) {
    throw new ApiError(
      'not_ready',
      `model "${name}" has no promoted version yet${state.activeStudy ? ` (study ${state.activeStudy.id} is running)` : ''}`,
    );
  }
  throw new ApiError('not_found', `unknown model "${name}"`);
}

function metadata(meta: ModelVersion) {
  return {
    name: meta.model,
    version: meta.version,
    createdAt: meta.createdAt,
    studyId: meta.studyId,
    trial: meta.trial,
    source: versionSource(meta),
    dataset: meta.dataset,
    featureNames: meta.featureNames,
    standardisation: meta.standardisation,
    classNames: meta.classNames,
    hyperparameters: meta.config,
    ...(meta.preprocessing ? { inputSchema: inputSchema(meta.preprocessing) } : {}),
    metrics: meta.metrics,
    threshold: meta.threshold,
    members: meta.members?.length
      ? meta.members.map((m) => ({
          trial: m.trial,
          weight: m.weight,
          validationAccuracy: m.validationAccuracy,
          hyperparameters: m.config,
        }))
      : null,
    calibration: meta.calibration ?? null,
  };
}

const listRoute = route('read', 'checked', {
  method: 'get',
  path: '/',
  summary: 'Every model with its current version and headline metrics',
  responses: { 200: jsonContent(ModelListSchema, 'Models') },
});
const getRoute = route('read', 'path', {
  method: 'get',
  path: '/{name}',
  summary: 'Metadata of the current version',
  request: { params: ModelNameParam },
  responses: { 200: jsonContent(ModelMetadataSchema, 'Current version'), ...modelErrors },
});
const versionsRoute = route('read', 'path', {
  method: 'get',
  path: '/{name}/versions',
  summary: 'Versions and promotion history',
  request: { params: ModelNameParam },
  responses: { 200: jsonContent(VersionListSchema, 'Versions'), 404: modelErrors[404] },
});
const evaluationRoute = route('read', 'path', {
  method: 'get',
  path: '/{name}/evaluation',
  summary: "Confusion matrix of the current version on its dataset's test split",
  request: { params: ModelNameParam },
  responses: { 200: jsonContent(EvaluationSchema, 'Evaluation'), ...modelErrors },
});
const predictRoute = route('predict', 'path', {
  method: 'post',
  path: '/{name}/predict',
  summary: 'Predict with the current version',
  request: { params: ModelNameParam, ...jsonBody(PredictRequestSchema) },
  responses: { 200: jsonContent(PredictResponseSchema, 'Predictions'), ...modelErrors },
});
const pinnedRoute = route('predict', 'path', {
  method: 'post',
  path: '/{name}/versions/{version}/predict',
  summary: 'Predict with a pinned, immutable version',
  request: { params: VersionParams, ...jsonBody(PredictRequestSchema) },
  responses: { 200: jsonContent(PredictResponseSchema, 'Predictions'), ...modelErrors },
});
const rollbackRoute = route('admin', 'path', {
  method: 'post',
  path: '/{name}/rollback',
  summary: 'Move the current-version pointer back to an existing version (admin)',
  request: { params: ModelNameParam, ...jsonBody(RollbackRequestSchema) },
  responses: { 200: jsonContent(RollbackResponseSchema, 'Pointer moved'), ...modelErrors },
});

/** One LoadedModel for the whole request: the answer comes from exactly one version, the one it names. */
function predictWith(loaded: LoadedModel, body: z.infer<typeof PredictRequestSchema>) {
  const { meta } = loaded;
  // A table version reads numbers, strings and null per column through its preprocessing; a numeric
  // version takes numbers by position or name, as it always did (x: what it read, for drift sketches).
  const x = loaded.table ? null : toMatrix(body.instances, meta.featureNames, loaded.featureIndex);
  const probs = loaded.table
    ? loaded.table.predictInstances(body.instances)
    : loaded.predictor.predictProba(x!, body.instances.length);
  const answer = {
    model: meta.model,
    version: meta.version,
    predictions: formatPredictions(probs, meta.classNames, body.threshold ?? meta.threshold, body.topK),
  };
  return { answer, x };
}

/** Work that must not delay the response (the live loop's storage writes, shadow predictions). */
function afterResponse(c: Context<AppEnv>, work: Promise<unknown> | null): void {
  if (!work) return;
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (a direct call in a test): the promise still runs, nobody waits for it.
  }
}

/** Who is calling, for a sticky canary: the key's id, else the client address; null when unknown. */
function callerKey(c: Context<AppEnv>): string | null {
  return c.var.access?.principal?.keyId ?? c.req.header('cf-connecting-ip') ?? null;
}

export function modelRoutes() {
  return newRouter()
    .openapi(listRoute, async (c) => {
      const indexed = await new D1Listings(c.env.DB).list<ModelHeadline>('model');
      const models: {
        name: string;
        version: number | null;
        metrics: { validationAccuracy: number; testAccuracy: number } | null;
        studyId: string | null;
      }[] = indexed.map((m) => ({
        name: m.id,
        version: m.version,
        metrics: { validationAccuracy: m.validationAccuracy, testAccuracy: m.testAccuracy },
        studyId: m.studyId,
      }));
      // Every dataset is a model-to-be (the model name defaults to the dataset name) before its first promotion.
      for (const { name } of await listDatasets(catalogStub(c.env.DATASET_CATALOG)))
        if (!models.some((m) => m.name === name)) models.push({ name, version: null, metrics: null, studyId: null });
      const visible = models.filter((m) => canSeeModel(c.var.access, m.name));
      return c.json({ models: visible.sort((a, b) => a.name.localeCompare(b.name)) }, 200);
    })
    .openapi(getRoute, async (c) => {
      const { name } = c.req.valid('param');
      const meta = await c.var.serving.current(deps(c.env), name);
      if (!meta) return notServable(c.env, name);
      // A snapshot of the monitor's figures, at most 10 s old: the read does not queue behind the monitor.
      const live = await c.var.live.quality.read(c.env, name);
      afterResponse(c, live.refresh);
      return c.json({ ...metadata(meta), live: live.value }, 200);
    })
    .openapi(versionsRoute, async (c) => {
      const { name } = c.req.valid('param');
      const registry = registryStub(c.env.MODELS, name);
      const [state, versions] = await Promise.all([registry.state(), registry.listVersions()]);
      if (!state.model && !(await getDatasetMeta(catalogStub(c.env.DATASET_CATALOG), name)))
        throw new ApiError('not_found', `unknown model "${name}"`);
      return c.json(
        {
          model: name,
          current: state.current?.version ?? null,
          versions: versions.map((v) => ({
            version: v.version,
            createdAt: v.createdAt,
            studyId: v.studyId,
            trial: v.trial,
            source: versionSource(v),
            metrics: v.metrics,
            promotedBy: v.promotedBy ?? null,
          })),
          history: state.history,
        },
        200,
      );
    })
    .openapi(evaluationRoute, async (c) => {
      const { name } = c.req.valid('param');
      const meta = await c.var.serving.current(deps(c.env), name);
      if (!meta) return notServable(c.env, name);
      // A version whose test rows cannot be rebuilt here answers 404 (see domain-errors.ts).
      return c.json(await c.var.serving.evaluation(deps(c.env), meta), 200);
    })
    .openapi(predictRoute, async (c) => {
      const { name } = c.req.valid('param');
      const t0 = performance.now();
      const state = await c.var.serving.state(deps(c.env), name);
      const meta = state.current;
      if (!meta) return notServable(c.env, name);
      const body = c.req.valid('json');
      const t1 = performance.now();
      // A canary answers its share of callers (always the same ones) with the challenger; a challenger
      // that cannot be loaded leaves them with the champion.
      const arm = c.var.live.arm(state.traffic, name, callerKey(c));
      const loaded =
        arm === 'challenger'
          ? await c.var.serving
              .load(deps(c.env), state.traffic!.meta)
              .catch(() => c.var.serving.loadServable(deps(c.env), meta))
          : await c.var.serving.loadServable(deps(c.env), meta);
      const t2 = performance.now();
      // Where a request's time goes (mostly visible on an isolate's first, cold request).
      c.header('server-timing', `pointer;dur=${(t1 - t0).toFixed(1)}, load;dur=${(t2 - t1).toFixed(1)}`, {
        append: true,
      });
      try {
        const { answer, x } = predictWith(loaded, body);
        const requestId = crypto.randomUUID();
        afterResponse(
          c,
          c.var.live.served(c.env, requestId, {
            meta: loaded.meta,
            instances: body.instances,
            x,
            predictions: answer.predictions,
          }),
        );
        if (state.traffic?.mode === 'shadow' && loaded.meta.version === meta.version)
          afterResponse(
            c,
            shadowPredict(
              c.env,
              c.var.serving,
              c.var.live,
              deps(c.env),
              state.traffic.meta,
              body.instances,
              answer.predictions,
              meta.version,
            ),
          );
        return c.json(answer, 200);
      } finally {
        loaded.release();
      }
    })
    .openapi(pinnedRoute, async (c) => {
      const { name, version } = c.req.valid('param');
      const meta = await c.var.serving.version(deps(c.env), name, Number(version));
      if (!meta) throw new ApiError('not_found', `model "${name}" has no version ${version}`);
      const body = c.req.valid('json');
      const loaded = await c.var.serving.load(deps(c.env), meta);
      try {
        return c.json(predictWith(loaded, body).answer, 200);
      } finally {
        loaded.release();
      }
    })
    .openapi(rollbackRoute, async (c) => {
      const { name } = c.req.valid('param');
      const { version } = c.req.valid('json');
      const moved = unwrap(await registryStub(c.env.MODELS, name).rollback(version));
      c.var.serving.forget(name);
      return c.json({ model: name, version: moved.version, previous: moved.previous }, 200);
    });
}
