/**
 * Who may call a route. Every route but liveness declares the scope it needs with `route` (router.ts, through `requireScope`), which
 * documents it in /openapi.json (`security`, `x-scope`, `x-models`) and enforces it:
 *
 * - ACCESS_MODE=keys: no key (or a bad, revoked or unknown one) -> 401; a valid key without the scope, or
 *   limited to other models -> 403.
 * - ACCESS_MODE=open: `read` and `predict` routes are public (keyless predictions limited per client
 *   address); every other scope is enforced as in keys mode.
 *
 * A presented key is always checked, in both modes: one SHA-256 and a lookup in this isolate's key
 * leases (shared/access/leases.ts), which ask the key's own Durable Object about once a second per key
 * and spend the key's rate limit (429 with Retry-After); a revocation still takes effect at once. The
 * ADMIN_TOKEN secret is the root key (id "root", every scope, no limit).
 *
 * Admin and reviewer actions (every non-GET `admin` or `review` route) are appended to the audit trail with the key id, time,
 * route and target once the handler has answered.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { allowsModel, hasScope, parseAccessMode, ROOT, type Principal, type Scope } from '../../shared/access/scopes';
import type { KeyLeases } from '../../shared/access/leases';
import { hashToken, keyIdOf } from '../../shared/access/tokens';
import { AUTH_FAILURE_PERIOD_S, type AuthFailures } from './auth-failures';
import { tokensEqual } from './http/auth';
import { ApiError } from './http/errors';
import { logError } from '../../shared/log';
import { apiKeyStub, auditStub } from '../durable/stubs';

/**
 * How a route treats a key limited to some models:
 * - path: the route names one model in its `{name}` path parameter, which must be one of the key's;
 * - checked: the handler filters its listing (or checks the resource's model) with `canSeeModel`;
 * - all: the route is not about one model; only keys without a model list may call it.
 */
export type ModelRule = 'path' | 'checked' | 'all';

export interface AccessState {
  principal: Principal | null;
  /** False on a public route in open mode: nothing is restricted there. */
  enforced: boolean;
}

type AccessEnv = { Bindings: Env; Variables: { access: AccessState; leases: KeyLeases; failures: AuthFailures } };

/** Public in open mode: the behaviour before keys existed. */
export const OPEN_SCOPES: readonly Scope[] = ['read', 'predict'];
/** The binding's window (wrangler.toml [[ratelimits]] period): it does not say when the window resets. */
const PUBLIC_LIMIT_PERIOD_S = 10;

/**
 * The caller's principal: null when no Authorization header was sent; throws 401 for a bad key, 429 for
 * a limited key or an address with too many failed authentications (auth-failures.ts).
 */
async function authenticate(c: Context<AccessEnv>): Promise<Principal | null> {
  const header = c.req.header('authorization');
  if (header === undefined) return null;
  const address = c.req.header('cf-connecting-ip');
  try {
    return await verify(c, header, c.var.failures.refusedFor(address));
  } catch (err) {
    if (
      err instanceof ApiError &&
      err.code === 'unauthorized' &&
      (await c.var.failures.fail(c.env.AUTH_FAILURE_LIMIT, address))
    )
      throw tooManyFailures(AUTH_FAILURE_PERIOD_S);
    throw err;
  }
}

const tooManyFailures = (seconds: number) =>
  new ApiError('rate_limited', 'too many failed authentications from this address; try again later', {
    'retry-after': String(seconds),
  });

/** `refusedFor` > 0: the address is over its failure limit, and only a token this isolate holds a lease for passes. */
async function verify(c: Context<AccessEnv>, header: string, refusedFor: number): Promise<Principal> {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (!token) throw new ApiError('unauthorized', 'malformed Authorization header: expected "Bearer <key>"');
  const id = keyIdOf(token);
  if (id) {
    const hash = await hashToken(token);
    const key = apiKeyStub(c.env.KEYS, id);
    const result =
      refusedFor > 0
        ? c.var.leases.fromLease(id, hash)
        : await c.var.leases.admit(id, hash, (h, returned) => key.check(h, returned));
    if (!result) throw tooManyFailures(refusedFor);
    if (result.ok) return result.principal;
    if (result.reason === 'limited')
      throw new ApiError('rate_limited', `key ${id} is over its rate limit`, {
        'retry-after': String(result.retryAfter),
      });
    throw new ApiError('unauthorized', result.reason === 'revoked' ? `key ${id} was revoked` : 'unknown API key');
  }
  if (refusedFor > 0) throw tooManyFailures(refusedFor);
  if (c.env.ADMIN_TOKEN && (await tokensEqual(token, c.env.ADMIN_TOKEN))) return ROOT;
  throw new ApiError('unauthorized', 'unknown API key');
}

/** Keyless predictions in open mode: the rate-limiting binding, per client address and location. */
async function limitAddress(c: Context<AccessEnv>): Promise<void> {
  // Cloudflare sets CF-Connecting-IP on every request (and wrangler dev on loopback); a call without one
  // (a service binding, a test calling the handler) has no address to count.
  const address = c.req.header('cf-connecting-ip');
  if (!address) return;
  const { success } = await c.env.PUBLIC_PREDICT_LIMIT.limit({ key: address });
  if (!success)
    throw new ApiError('rate_limited', 'too many predictions from this address; use an API key for more', {
      'retry-after': String(PUBLIC_LIMIT_PERIOD_S),
    });
}

/** The concrete target of an admin action: the path, plus the id of what it created (a study, a key ...). */
async function auditTarget(c: Context<AccessEnv>): Promise<string> {
  const path = c.req.path;
  if (c.res.status >= 300 || !(c.res.headers.get('content-type') ?? '').includes('application/json')) return path;
  try {
    const body = (await c.res.clone().json()) as { id?: unknown; key?: { id?: unknown } };
    const id = typeof body.id === 'string' ? body.id : typeof body.key?.id === 'string' ? body.key.id : null;
    return id && !path.split('/').includes(id) ? `${path.replace(/\/$/, '')}/${id}` : path;
  } catch {
    return path;
  }
}

async function audit(c: Context<AccessEnv>, principal: Principal): Promise<void> {
  const entry = {
    at: new Date().toISOString(),
    keyId: principal.keyId,
    action: `${c.req.method} ${c.req.routePath}`,
    target: await auditTarget(c),
    status: c.res.status,
  };
  try {
    await auditStub(c.env.AUDIT).append(entry);
  } catch (err) {
    // The action has happened; the caller gets its answer, the gap is logged loudly.
    logError('audit_failed', { ...entry, message: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * What a route needs: one scope, or `any` valid key (a route about the caller itself, such as
 * GET /v1/keys/self; public in open mode like reads, where no key means the public scopes).
 */
export type RouteScope = Scope | 'any';

export function scopeMiddleware(scope: RouteScope, models: ModelRule): MiddlewareHandler<AccessEnv> {
  return async (c, next) => {
    const mode = parseAccessMode(c.env.ACCESS_MODE);
    const principal = await authenticate(c);
    const isPublic = mode === 'open' && (scope === 'any' || OPEN_SCOPES.includes(scope));
    c.set('access', { principal, enforced: !isPublic });
    if (isPublic) {
      if (!principal && scope === 'predict') await limitAddress(c);
      return next();
    }
    if (!principal)
      throw new ApiError(
        'unauthorized',
        `this route needs an API key with the "${scope}" scope: Authorization: Bearer <key>`,
      );
    if (scope !== 'any' && !hasScope(principal, scope))
      throw new ApiError('forbidden', `key ${principal.keyId} lacks the "${scope}" scope`);
    if (principal.models !== null) {
      if (models === 'all')
        throw new ApiError(
          'forbidden',
          `key ${principal.keyId} is limited to some models; this route needs an unlimited key`,
        );
      if (models === 'path') {
        const name = c.req.param('name') ?? '';
        if (!allowsModel(principal, name))
          throw new ApiError('forbidden', `key ${principal.keyId} may not use model "${name}"`);
      }
    }
    await next();
    // Admin actions and reviewers' labels and discards go to the audit trail.
    if ((scope === 'admin' || scope === 'review') && c.req.method !== 'GET') await audit(c, principal);
  };
}

/** May this request see things of this model? (For `checked` routes: listings and resources found by id.) */
export function canSeeModel(access: AccessState | undefined, model: string): boolean {
  return !access?.enforced || !access.principal || allowsModel(access.principal, model);
}

/** 403 for a resource (found by id) of a model this request may not see. */
export function forbidOtherModel(access: AccessState | undefined, model: string): void {
  if (!canSeeModel(access, model))
    throw new ApiError('forbidden', `key ${access?.principal?.keyId ?? '?'} may not see model "${model}"`);
}
