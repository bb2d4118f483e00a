import { Hono } from 'hono';
import { initBackend } from '../../shared/tf/backend';

/** GET /health: what TF.js runs on in this isolate. A cpu fallback answers 503 "degraded". */
export const health = new Hono<{ Bindings: Env }>().get('/', async (c) => {
  const info = await initBackend();
  const body = {
    status: info.fallback ? 'degraded' : 'ok',
    backend: info.backend,
    simd: info.simd,
    binary: info.binary,
    threads: info.threads,
    tfjsVersion: info.tfjsVersion,
    ...(info.fallbackReason ? { problems: [info.fallbackReason] } : {}),
  };
  return c.json(body, info.fallback ? 503 : 200);
});
