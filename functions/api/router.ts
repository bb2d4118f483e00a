import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { requireAdmin } from '../../shared/http/auth';
import { ApiError, errorBody } from '../../shared/http/errors';
import { describeZodError } from '../../shared/http/validation';
import type { Result } from '../durable/contracts';
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

/** A JSON response (or body) entry of a route definition. */
export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** Spread into a route definition: admin token required, and documented as such in /openapi.json. */
export const adminOnly = { security: [{ adminToken: [] }], middleware: requireAdmin((env: Env) => env.ADMIN_TOKEN) };

/** A Durable Object's answer as the route's value; its refusal becomes the error response of the same code. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new ApiError(result.error.code, result.error.message);
  return result.value;
}
