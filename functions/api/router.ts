/**
 * What every route file builds on: a router whose validation failures answer 422, and the pieces of a
 * route declaration that would otherwise be restated per route (the JSON body block, the admin guard
 * with its documented 401), so the declaration and the behaviour cannot drift apart.
 */
import { OpenAPIHono, type RouteConfig, type z } from '@hono/zod-openapi';
import type { Result } from '../durable/contracts';
import type { ServingCache } from '../services/serving';
import { requireAdmin } from './http/auth';
import { ApiError, errorBody } from './http/errors';
import { describeZodError } from './http/validation';
import { ErrorSchema } from './schemas';

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

/** The `body` of a route's `request`: a JSON document validated by `schema` (422 when it does not parse). */
export const jsonBody = <T extends z.ZodType>(schema: T, { required = true } = {}) => ({
  body: { content: { 'application/json': { schema } }, required },
});

const adminGuard = {
  security: [{ adminToken: [] }],
  middleware: requireAdmin((env: Env) => env.ADMIN_TOKEN),
};

/**
 * Wraps a route declaration: the admin token is required (checked before the handler runs) and the
 * route documents it, the bearer scheme and its 401 answer, in /openapi.json.
 *
 * The guard is also on the function itself, so a declaration written in the older spread form
 * (`...adminOnly`, with its own 401 entry) still gets the check: spreading a bare function would copy
 * nothing and silently leave the route open.
 */
export const adminOnly = Object.assign(
  <R extends RouteConfig>(route: R) => ({
    ...route,
    ...adminGuard,
    responses: { ...route.responses, 401: jsonContent(ErrorSchema, 'Missing or wrong admin token') },
  }),
  adminGuard,
);

/** A Durable Object's answer as the route's value; its refusal becomes the error response of the same code. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new ApiError(result.error.code, result.error.message);
  return result.value;
}
