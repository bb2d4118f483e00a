import { OpenAPIHono } from '@hono/zod-openapi';
import { errorBody } from '../../shared/http/errors';
import { describeZodError } from '../../shared/http/validation';
import type { ServingCache } from '../services/serving';

export type AppEnv = { Bindings: Env; Variables: { serving: ServingCache } };

/** A router whose request validation failures answer 422 with the offending field named. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json(errorBody('validation_failed', describeZodError(result.error)), 422);
    },
  });
}
