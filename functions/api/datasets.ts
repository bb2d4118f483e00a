/**
 * /v1/datasets: upload (CSV or JSON), list, inspect (schema and counts, not rows), settings, delete.
 */
import { z } from '@hono/zod-openapi';
import { parseCsvDataset, parseJsonDataset, parseTypes, type UploadOptions } from '../../models/tabular';
import {
  getDatasetMeta,
  isEmbeddedDataset,
  listDatasets,
  saveDataset,
  type DatasetCatalogApi,
  type DatasetMeta,
} from '../../shared/datasets';
import { ApiError } from './http/errors';
import { log } from '../../shared/log';
import { validateSpace } from '../../shared/study/plan';
import { datasetDeps } from '../services/dataset-deps';
import { errors, jsonBody, jsonContent, newRouter, route } from './router';
import {
  DatasetJsonSchema,
  DatasetListSchema,
  DatasetNameParam,
  DatasetSettingsSchema,
  DatasetSummarySchema,
  DatasetUploadQuery,
  MAX_DATASET_BYTES,
} from './schemas';

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('invalid_json', 'the body is not valid JSON');
  }
}

function summary(m: DatasetMeta) {
  return m;
}

/**
 * A running study on this dataset (it pins one of its versions until it ends), from the catalog,
 * which is strongly consistent: a study that just ended no longer blocks a deletion.
 */
async function runningStudyOn(catalog: DatasetCatalogApi, name: string): Promise<string | null> {
  const study = (await catalog.holders(name)).find((h) => h.holder.startsWith('study:'));
  return study ? study.holder.slice('study:'.length) : null;
}

const uploadRoute = route('admin', 'all', {
  method: 'put',
  path: '/{name}',
  summary: `Upload or replace a dataset (admin): CSV with a header row (text/csv) or JSON; at most ${MAX_DATASET_BYTES / 1024 / 1024} MiB`,
  request: {
    params: DatasetNameParam,
    query: DatasetUploadQuery,
    body: {
      // Documented here, parsed by the handler: a strict schema would answer a CSV upload with JSON errors,
      // and the row/column messages of models/tabular.ts say more than generic schema paths.
      content: {
        'text/csv': {
          schema: z
            .string()
            .openapi({ description: 'CSV with a header row; the label is the last column unless ?label= names it' }),
        },
        'application/json': {
          schema: z.unknown().openapi({
            description: `{ "features": [names], "rows": [[numbers]], "labels": [string | integer] } — see ${DatasetJsonSchema.description ?? 'DatasetJson'}`,
          }),
        },
      },
      required: false,
    },
  },
  responses: {
    201: jsonContent(DatasetSummarySchema, 'Stored'),
    ...errors({
      409: 'Embedded dataset',
      413: 'Body too large',
      415: 'Not CSV or JSON',
      422: 'Invalid dataset (names the row and column)',
    }),
  },
});
const listRoute = route('read', 'all', {
  method: 'get',
  path: '/',
  summary: 'Datasets with their row, feature and class counts',
  responses: { 200: jsonContent(DatasetListSchema, 'Datasets') },
});
const getRoute = route('read', 'all', {
  method: 'get',
  path: '/{name}',
  summary: 'Schema and counts of a dataset (not its rows)',
  request: { params: DatasetNameParam },
  responses: { 200: jsonContent(DatasetSummarySchema, 'Dataset'), ...errors({ 404: 'Unknown dataset' }) },
});
const settingsRoute = route('admin', 'all', {
  method: 'put',
  path: '/{name}/settings',
  summary: "Set a dataset's re-tuning schedule and search-space overrides (admin)",
  request: { params: DatasetNameParam, ...jsonBody(DatasetSettingsSchema) },
  responses: {
    200: jsonContent(DatasetSummarySchema, 'Updated'),
    ...errors({ 404: 'Unknown dataset', 409: 'Embedded dataset', 422: 'Invalid settings' }),
  },
});
const deleteRoute = route('admin', 'all', {
  method: 'delete',
  path: '/{name}',
  summary: 'Delete a dataset (admin); refused while a study on it is running',
  request: { params: DatasetNameParam },
  responses: {
    204: { description: 'Deleted' },
    ...errors({ 404: 'Unknown dataset', 409: 'Embedded dataset, or a study on it is running' }),
  },
});

export function datasetRoutes() {
  return newRouter()
    .openapi(uploadRoute, async (c) => {
      const { name } = c.req.valid('param');
      const { label, types, missing } = c.req.valid('query');
      const options: UploadOptions = {
        ...(label !== undefined ? { label } : {}),
        ...(types !== undefined ? { types: parseTypes(types) } : {}),
        ...(missing !== undefined ? { missingMarkers: missing.split(',') } : {}),
      };
      if (isEmbeddedDataset(name))
        throw new ApiError('conflict', `"${name}" is an embedded dataset and cannot be replaced`);
      // A running study on the dataset keeps training on the version it pinned; this upload becomes
      // the current version for everything started later.
      const type = c.req.header('content-type') ?? '';
      // The route's validator refuses other declared-but-wrong types; a request without any content
      // type (or body) reaches this point, hence the explicit checks. A DatasetError answers 422.
      let dataset;
      if (/^text\/csv\s*(;|$)/i.test(type)) dataset = parseCsvDataset(name, await c.req.text(), options);
      else if (/^application\/json\s*(;|$)/i.test(type))
        dataset = parseJsonDataset(name, parseJsonText(await c.req.text()), options);
      else
        throw new ApiError('unsupported_media_type', `expected text/csv or application/json, got "${type || 'none'}"`);
      const meta = await saveDataset(datasetDeps(c.env), dataset);
      log('dataset_stored', {
        name,
        version: meta.version,
        rows: meta.rows,
        features: meta.features,
        classes: meta.classNames.length,
        dropped: meta.dropped?.length ?? 0,
      });
      return c.json(summary(meta), 201);
    })
    .openapi(listRoute, async (c) => {
      const all = await listDatasets(datasetDeps(c.env).catalog);
      return c.json(
        {
          datasets: all.map(({ name, headline }) => ({ name, ...headline })),
        },
        200,
      );
    })
    .openapi(getRoute, async (c) => {
      const { name } = c.req.valid('param');
      const meta = await getDatasetMeta(datasetDeps(c.env).catalog, name);
      if (!meta) throw new ApiError('not_found', `unknown dataset "${name}"`);
      return c.json(summary(meta), 200);
    })
    .openapi(settingsRoute, async (c) => {
      const { name } = c.req.valid('param');
      const settings = c.req.valid('json');
      if (isEmbeddedDataset(name))
        throw new ApiError('conflict', `"${name}" is embedded; its schedule is RETUNE_SCHEDULES in wrangler.toml`);
      const problem = validateSpace(settings.space);
      if (problem) throw new ApiError('validation_failed', `space: ${problem}`);
      const meta = await datasetDeps(c.env).catalog.updateSettings(name, settings);
      if (!meta) throw new ApiError('not_found', `unknown dataset "${name}"`);
      return c.json(summary(meta), 200);
    })
    .openapi(deleteRoute, async (c) => {
      const { name } = c.req.valid('param');
      if (isEmbeddedDataset(name))
        throw new ApiError('conflict', `"${name}" is an embedded dataset and cannot be deleted`);
      const { catalog } = datasetDeps(c.env);
      const running = await runningStudyOn(catalog, name);
      if (running) throw new ApiError('conflict', `study ${running} on dataset "${name}" is running`);
      const meta = await catalog.remove(name);
      if (!meta) throw new ApiError('not_found', `unknown dataset "${name}"`);
      log('dataset_deleted', { name, version: meta.version });
      return c.body(null, 204);
    });
}
