/**
 * /v1/sessions: "panda mode", one model trained in slices by its own Durable Object, watched through
 * its live curve and adjusted, paused, resumed or promoted by an admin.
 */
import { DEFAULT_CONFIG, ModelConfigSchema } from '../../models/config';
import { MAX_SESSION_MEMORY_BYTES, sessionFloats, sessionMemoryBytes } from '../../models/session-trainer';
import { getDatasetMeta, pinDataset, sessionHolder } from '../../shared/datasets';
import { DEFAULT_SIGNIFICANCE } from '../../shared/study/compare';
import { ApiError } from './http/errors';
import type { SessionHeadline } from '../../shared/storage/headlines';
import { D1Listings } from '../../shared/storage/listings';
import { catalogStub, sessionStub } from '../durable/stubs';
import { newStudyId } from '../services/studies';
import { canSeeModel, forbidOtherModel } from './access';
import { errors, jsonBody, jsonContent, newRouter, route, unwrap } from './router';
import {
  PromotionSchema,
  SessionListSchema,
  SessionAdjustSchema,
  SessionIdParam,
  SessionPromoteSchema,
  SessionRequestSchema,
  SessionViewSchema,
} from './schemas';

const startRoute = route('admin', 'all', {
  method: 'post',
  path: '/',
  summary:
    'Start a training session (admin): one model trained a few epochs per alarm, state kept in its Durable Object',
  request: jsonBody(SessionRequestSchema),
  responses: {
    202: jsonContent(SessionViewSchema, 'Session started'),
    ...errors({ 404: 'Unknown dataset', 422: 'Invalid request' }),
  },
});
const listRoute = route('read', 'checked', {
  method: 'get',
  path: '/',
  summary: 'Training sessions, newest first, with status and progress',
  responses: { 200: jsonContent(SessionListSchema, 'Sessions') },
});
const getRoute = route('read', 'checked', {
  method: 'get',
  path: '/{id}',
  summary: 'Live learning curve, adjustment marks, current hyperparameters and status',
  request: { params: SessionIdParam },
  responses: { 200: jsonContent(SessionViewSchema, 'Session'), ...errors({ 404: 'Unknown session' }) },
});
const adjustRoute = route('admin', 'all', {
  method: 'post',
  path: '/{id}/adjust',
  summary: 'Change hyperparameters for the following epochs (admin); recorded on the curve',
  request: { params: SessionIdParam, ...jsonBody(SessionAdjustSchema) },
  responses: {
    200: jsonContent(SessionViewSchema, 'Adjusted'),
    ...errors({ 404: 'Unknown session', 409: 'Diverged', 422: 'Invalid values' }),
  },
});
const toggle = (action: 'pause' | 'resume', summary: string) =>
  route('admin', 'all', {
    method: 'post',
    path: `/{id}/${action}`,
    summary,
    request: { params: SessionIdParam },
    responses: {
      200: jsonContent(SessionViewSchema, 'Session'),
      ...errors({ 404: 'Unknown session', 409: 'Complete or diverged' }),
    },
  });
const pauseRoute = toggle('pause', 'Stop training after the current slice (admin)');
const resumeRoute = toggle(
  'resume',
  'Continue a paused session, or retry a failed one from its last stored slice (admin)',
);
const promoteRoute = route('admin', 'all', {
  method: 'post',
  path: '/{id}/promote',
  summary:
    "Promote the session's current weights if, on the same test rows, they beat the champion by more than `margin` at `significance` (admin); once per session",
  request: { params: SessionIdParam, ...jsonBody(SessionPromoteSchema, { required: false }) },
  responses: {
    200: jsonContent(PromotionSchema, 'The decision (also when not promoted)'),
    ...errors({ 404: 'Unknown session', 409: 'Nothing trained yet, diverged or failed' }),
  },
});

const deleteRoute = route('admin', 'all', {
  method: 'delete',
  path: '/{id}',
  summary:
    'Delete a session (admin): stops its training and frees its stored state, its dataset pin and its listing line; a version it promoted stays served',
  request: { params: SessionIdParam },
  responses: { 204: { description: 'Deleted' }, ...errors({ 404: 'Unknown session' }) },
});

export function sessionRoutes() {
  return newRouter()
    .openapi(startRoute, async (c) => {
      const req = c.req.valid('json');
      const dataset = await getDatasetMeta(catalogStub(c.env.DATASET_CATALOG), req.dataset);
      if (!dataset) throw new ApiError('not_found', `unknown dataset "${req.dataset}"`);
      // Each key passed the request schema alone; the whole config is checked here, as resolveConfig would.
      const parsed = ModelConfigSchema.safeParse({ ...DEFAULT_CONFIG, ...req.config });
      if (!parsed.success)
        throw new ApiError(
          'validation_failed',
          `config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      const config = parsed.data;
      // Storage no longer bounds the network (weights and moments are chunked); the isolate's memory does.
      const bytes = sessionMemoryBytes(config, dataset.features, dataset.classNames.length);
      if (bytes > MAX_SESSION_MEMORY_BYTES) {
        const floats = sessionFloats(config, dataset.features, dataset.classNames.length);
        throw new ApiError(
          'validation_failed',
          `config: ${floats} parameters with ${config.optimizer} need ~${Math.round(bytes / 1e6)} MB of memory per slice, at most ${MAX_SESSION_MEMORY_BYTES / 1e6} MB fit in an isolate (reduce depth or width, or use an optimizer with fewer moments)`,
        );
      }
      const model = req.model ?? req.dataset;
      const id = `session-${newStudyId(model)}`;
      // A session can be resumed and promoted at any later time, so it keeps its version pinned.
      const pinned = await pinDataset(catalogStub(c.env.DATASET_CATALOG), req.dataset, sessionHolder(id));
      if (!pinned) throw new ApiError('not_found', `unknown dataset "${req.dataset}"`);
      const view = await sessionStub(c.env.SESSIONS, id).start({
        ...{ id, model, dataset: req.dataset, datasetVersion: pinned.version, config },
        ...{
          seed: req.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]! % 2 ** 31,
          sliceEpochs: req.slice.epochs,
          sliceTargetMs: req.slice.targetMs,
          intervalMs: req.slice.intervalMs,
        },
      });
      return c.json(view, 202);
    })
    .openapi(listRoute, async (c) => {
      const sessions = await new D1Listings(c.env.DB).list<SessionHeadline>('session');
      return c.json({ sessions: sessions.filter((s) => canSeeModel(c.var.access, s.model)) }, 200);
    })
    .openapi(getRoute, async (c) => {
      const { id } = c.req.valid('param');
      const view = await sessionStub(c.env.SESSIONS, id).view();
      if (!view) throw new ApiError('not_found', `unknown session "${id}"`);
      forbidOtherModel(c.var.access, view.model);
      return c.json(view, 200);
    })
    .openapi(adjustRoute, async (c) => {
      const { id } = c.req.valid('param');
      return c.json(unwrap(await sessionStub(c.env.SESSIONS, id).adjust(c.req.valid('json'))), 200);
    })
    .openapi(pauseRoute, async (c) =>
      c.json(unwrap(await sessionStub(c.env.SESSIONS, c.req.valid('param').id).pause()), 200),
    )
    .openapi(resumeRoute, async (c) =>
      c.json(unwrap(await sessionStub(c.env.SESSIONS, c.req.valid('param').id).resume()), 200),
    )
    .openapi(promoteRoute, async (c) => {
      const { id } = c.req.valid('param');
      const body = (c.req.valid('json') as { margin?: number; significance?: number } | undefined) ?? {};
      const settings = { margin: body.margin ?? 0, significance: body.significance ?? DEFAULT_SIGNIFICANCE };
      return c.json(unwrap(await sessionStub(c.env.SESSIONS, id).promote(settings)), 200);
    })
    .openapi(deleteRoute, async (c) => {
      unwrap(await sessionStub(c.env.SESSIONS, c.req.valid('param').id).remove());
      return c.body(null, 204);
    });
}
