/**
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 * The token is never logged or echoed.
 */
import { createMiddleware } from 'hono/factory';
import { ApiError } from './errors';

const encoder = new TextEncoder();

/** Constant-time equality (length leaks only through the digest, which is fixed-size). */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export function requireAdmin(getToken: (env: Env) => string | undefined) {
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const expected = getToken(c.env);
    if (!expected) throw new ApiError('unauthorized', 'admin token is not configured on this deployment');
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !(await tokensEqual(match[1]!.trim(), expected))) {
      throw new ApiError('unauthorized', 'a valid admin token is required: Authorization: Bearer <token>');
    }
    await next();
  });
}
