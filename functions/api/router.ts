/**
 * What every route file builds on: a router whose validation failures answer 422, and the pieces of a
 * route declaration that would otherwise be restated per route (the JSON body block, the access guard
 * with its documented answers), so the declaration and the behaviour cannot drift apart.
 */
import { createRoute, OpenAPIHono, type RouteConfig, type z } from '@hono/zod-openapi';
import type { Result } from '../durable/contracts';
import type { ServingCache } from '../services/serving';
import type { KeyLeases } from '../../shared/access/leases';
import { scopeMiddleware, type AccessState, type ModelRule, type RouteScope } from './access';
import type { AuthFailures } from './auth-failures';
import type { LiveMonitor } from '../services/live';
import { bodyChecks } from './http/body';
import { ApiError, errorBody } from './http/errors';
import { describeZodError } from './http/validation';
import { ErrorSchema } from './schemas';

export type AppEnv = {
  Bindings: Env;
  Variables: {
    serving: ServingCache;
    live: LiveMonitor;
    access: AccessState;
    leases: KeyLeases;
    failures: AuthFailures;
  };
};

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

/** The error answers a route documents, by status (`errors({ 404: 'Unknown study' })`), each with the error body. */
export function errors<const S extends number>(answers: Record<S, string>) {
  const out = {} as Record<S, ReturnType<typeof jsonContent<typeof ErrorSchema>>>;
  for (const [status, description] of Object.entries<string>(answers))
    out[Number(status) as S] = jsonContent(ErrorSchema, description);
  return out;
}

/** The `body` of a route's `request`: a JSON document validated by `schema` (422 when it does not parse). */
export const jsonBody = <T extends z.ZodType>(schema: T, { required = true } = {}) => ({
  body: { content: { 'application/json': { schema } }, required },
});

/**
 * Wraps a route declaration with the access it needs (functions/api/access.ts): the scope is checked
 * before the body checks (http/body.ts), validation and the handler, and the route documents it in
 * /openapi.json — the bearer scheme, `x-scope`, `x-models` (how a key limited to some models is
 * treated) and the 401/403/429 answers.
 * (openapi.ts relaxes `security` for the routes that are public in open mode.)
 */
export const requireScope =
  (scope: RouteScope, models: ModelRule = 'all') =>
  <R extends RouteConfig>(route: R) => ({
    ...route,
    security: [{ apiKey: [] as string[] }],
    'x-scope': scope,
    'x-models': models,
    middleware: [scopeMiddleware(scope, models), bodyChecks, ...[route.middleware ?? []].flat()],
    responses: {
      ...route.responses,
      ...errors({ 401: 'No key, or an unknown or revoked one', 429: 'Over the rate limit; see Retry-After' }),
      ...(scope === 'any' ? {} : errors({ 403: 'The key lacks the scope, or is limited to other models' })),
    },
  });

/**
 * One route of the API: its access rule (the scope, and how a key limited to some models is treated) and
 * its declaration; every route file declares its routes through this. For example
 * `route('read', 'checked', { method: 'get', path: '/{id}', summary, request, responses: { 200: ..., ...errors({ 404: 'Unknown study' }) } })`.
 */
export const route = <R extends RouteConfig>(scope: RouteScope, models: ModelRule, config: R) =>
  createRoute(requireScope(scope, models)(config));

/** A Durable Object's answer as the route's value; its refusal becomes the error response of the same code. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new ApiError(result.error.code, result.error.message);
  return result.value;
}
