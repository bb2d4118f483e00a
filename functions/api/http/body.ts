/**
 * Body checks of a route with a request body: the size limit (before anything parses the body) and the
 * JSON content type. They run after the access check (router.ts, requireScope): a caller without the
 * right key learns nothing about what a route accepts, only that it needs a key.
 */
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { ApiError } from './errors';
import { MAX_BODY_BYTES, MAX_DATASET_BYTES } from '../schemas';

/** PUT /v1/datasets/:name takes CSV or JSON bodies up to MAX_DATASET_BYTES; its handler checks the type. */
function isDatasetUpload(method: string, path: string): boolean {
  return method === 'PUT' && /^\/v1\/datasets\/[^/]+\/?$/.test(path);
}

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError('payload_too_large', `request body over ${maxSize} bytes`);
    },
  });
const smallBody = limit(MAX_BODY_BYTES);
const uploadBody = limit(MAX_DATASET_BYTES);

export const bodyChecks = createMiddleware(async (c, next) => {
  const { method, path } = c.req;
  if (isDatasetUpload(method, path)) return uploadBody(c, next);
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type))
      throw new ApiError('unsupported_media_type', `expected content-type application/json, got "${type || 'none'}"`);
  }
  return smallBody(c, next);
});
