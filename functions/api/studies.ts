/**
 * /v1/studies: start (admin), list, inspect, and every trial record with its learning curve.
 */
import { getDatasetMeta } from '../../shared/datasets';
import { ApiError } from './http/errors';
import type { StudyHeadline } from '../../shared/storage/headlines';
import { D1Listings } from '../../shared/storage/listings';
import { ashaRungs } from '../../shared/study/asha';
import { resolveSearch, validateSpace } from '../../shared/study/search';
import { buildStudySpec } from '../../shared/study/spec';
import { catalogStub, studyStub } from '../durable/stubs';
import { newStudyId, resolveWarmStart, startStudy } from '../services/studies';
import { canSeeModel, forbidOtherModel } from './access';
import { errors, jsonBody, jsonContent, newRouter, route, unwrap } from './router';
import {
  PromotionSchema,
  StudyIdParam,
  StudyListSchema,
  StudyRequestSchema,
  StudyStartedSchema,
  StudyViewSchema,
  TrialListSchema,
} from './schemas';

const startRoute = route('admin', 'all', {
  method: 'post',
  path: '/',
  summary: 'Start a study (admin): fan out trials, aggregate, promote the best if it beats the champion',
  request: jsonBody(StudyRequestSchema),
  responses: {
    202: jsonContent(StudyStartedSchema, 'Study started'),
    ...errors({
      404: 'Unknown dataset or `from` study',
      409: 'A study is already running for this model',
      422: 'Invalid request',
    }),
  },
});
const listRoute = route('read', 'checked', {
  method: 'get',
  path: '/',
  summary: 'Studies, newest first',
  responses: { 200: jsonContent(StudyListSchema, 'Studies') },
});
const getRoute = route('read', 'checked', {
  method: 'get',
  path: '/{id}',
  summary: 'Status, progress, leaderboard, best trial and promotion outcome',
  request: { params: StudyIdParam },
  responses: { 200: jsonContent(StudyViewSchema, 'Study'), ...errors({ 404: 'Unknown study' }) },
});
const promoteRoute = route('admin', 'all', {
  method: 'post',
  path: '/{id}/promote',
  summary:
    "Promote a finished study's best trial over the guard's refusal (admin): for a champion that cannot be compared, when the new model should serve anyway",
  request: { params: StudyIdParam },
  responses: {
    200: jsonContent(PromotionSchema, 'Promoted (explicit)'),
    ...errors({ 404: 'Unknown study', 409: 'Still running, already promoted, or nothing to promote' }),
  },
});
const trialsRoute = route('read', 'checked', {
  method: 'get',
  path: '/{id}/trials',
  summary: 'Every finished trial record with its learning curve',
  request: { params: StudyIdParam },
  responses: { 200: jsonContent(TrialListSchema, 'Trials'), ...errors({ 404: 'Unknown study' }) },
});

export function studyRoutes() {
  return newRouter()
    .openapi(startRoute, async (c) => {
      const req = c.req.valid('json');
      const dataset = await getDatasetMeta(catalogStub(c.env.DATASET_CATALOG), req.dataset);
      if (!dataset) throw new ApiError('not_found', `unknown dataset "${req.dataset}"`);
      const space = req.space ?? dataset.settings.space;
      const spaceProblem = validateSpace(space);
      if (spaceProblem) throw new ApiError('validation_failed', `space: ${spaceProblem}`);
      let search: ReturnType<typeof resolveSearch>;
      try {
        search = resolveSearch(req);
      } catch (err) {
        throw new ApiError('validation_failed', (err as Error).message);
      }
      if (search.pruner && ashaRungs(search.pruner, req.budget.epochs).length === 0) {
        throw new ApiError(
          'validation_failed',
          `pruner.minEpochs: must be below budget.epochs (${req.budget.epochs}) for any rung to exist`,
        );
      }
      if (req.tpe && search.sampler !== 'tpe') throw new ApiError('validation_failed', 'tpe: only with sampler "tpe"');
      if (search.sampler === 'local' && !req.from)
        throw new ApiError('validation_failed', 'from: the local sampler needs the id of an earlier study');
      if (req.from && !(await studyStub(c.env.STUDIES, req.from).maybeView()))
        throw new ApiError('not_found', `unknown study "${req.from}"`);
      const model = req.model ?? req.dataset;
      const ns = {
        studies: c.env.STUDIES,
        models: c.env.MODELS,
        catalog: c.env.DATASET_CATALOG,
        monitors: c.env.MONITORS,
      };
      const warmStart = req.warmStartFrom ? await resolveWarmStart(ns, req.warmStartFrom) : null;
      if (req.warmStartFrom && !warmStart)
        throw new ApiError(
          'not_found',
          `no complete trials to warm-start from "${req.warmStartFrom}" (a study id or a model name)`,
        );
      const spec = buildStudySpec(dataset, {
        id: newStudyId(model),
        model,
        origin: 'api',
        search,
        tpe: req.tpe,
        trials: req.trials,
        seed: req.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]! % 2 ** 31,
        parallelism: req.parallelism,
        margin: req.margin,
        significance: req.significance,
        budget: req.budget,
        space,
        from: req.from,
        warmStart,
        faults: req.faults,
        now: new Date(),
      });
      const { id } = unwrap(await startStudy(ns, spec));
      return c.json({ id, model, status: 'running' as const, trials: spec.trials }, 202);
    })
    .openapi(listRoute, async (c) => {
      const studies = await new D1Listings(c.env.DB).list<StudyHeadline>('study');
      return c.json({ studies: studies.filter((s) => canSeeModel(c.var.access, s.model)) }, 200);
    })
    .openapi(getRoute, async (c) => {
      const { id } = c.req.valid('param');
      const view = await studyStub(c.env.STUDIES, id).maybeView();
      if (!view) throw new ApiError('not_found', `unknown study "${id}"`);
      forbidOtherModel(c.var.access, view.spec.model);
      return c.json(view, 200);
    })
    .openapi(trialsRoute, async (c) => {
      const { id } = c.req.valid('param');
      const stub = studyStub(c.env.STUDIES, id);
      const view = await stub.maybeView();
      if (!view) throw new ApiError('not_found', `unknown study "${id}"`);
      forbidOtherModel(c.var.access, view.spec.model);
      const trials = (await stub.records()).sort((a, b) => a.trial - b.trial);
      return c.json({ studyId: id, trials }, 200);
    })
    .openapi(promoteRoute, async (c) => {
      const { id } = c.req.valid('param');
      const stub = studyStub(c.env.STUDIES, id);
      const outcome = unwrap(await stub.promoteExplicitly());
      // This isolate serves the new pointer at once (others within the pointer TTL).
      c.var.serving.forget((await stub.view()).spec.model);
      return c.json(outcome, 200);
    });
}
