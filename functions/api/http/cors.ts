/**
 * CORS for the public surface only: reads and predictions may be called from any web page (no
 * credentials); admin routes get no CORS headers, so browsers never let another origin call them.
 */
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';

const PREDICT = /^\/v1\/models\/[^/]+\/(versions\/[^/]+\/)?predict\/?$/;

export function isPublicCall(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return true;
  return method === 'POST' && PREDICT.test(path);
}

export function publicCors() {
  const allow = cors({
    origin: '*',
    allowMethods: ['GET', 'HEAD', 'POST'],
    // A page may send an API key (read/predict scopes) from the browser; 429s tell it when to retry.
    allowHeaders: ['content-type', 'authorization'],
    exposeHeaders: ['retry-after'],
    maxAge: 86400,
  });
  return createMiddleware(async (c, next) => {
    // A preflight asks about the method it will use; answer only for public calls.
    const method = c.req.method === 'OPTIONS' ? (c.req.header('access-control-request-method') ?? '') : c.req.method;
    if (isPublicCall(method.toUpperCase(), c.req.path)) return allow(c, next);
    await next();
  });
}
