import { createRoute, z } from '@hono/zod-openapi';
import { initBackend } from '../../shared/tf/backend';
import { newRouter } from './router';
import { HealthSchema } from './schemas';

const route = createRoute({
  method: 'get',
  path: '/',
  summary: 'What TF.js runs on in this isolate; 503 "degraded" on the cpu fallback or unloadable models',
  responses: {
    200: { description: 'Healthy', content: { 'application/json': { schema: HealthSchema } } },
    503: { description: 'Degraded', content: { 'application/json': { schema: HealthSchema } } },
  },
});

export function healthRoutes() {
  return newRouter().openapi(route, async (c) => {
    const info = await initBackend();
    const problems = [...(info.fallbackReason ? [info.fallbackReason] : []), ...c.var.serving.problems()];
    const body = {
      status: problems.length ? ('degraded' as const) : ('ok' as const),
      backend: info.backend,
      simd: info.simd,
      binary: info.binary,
      threads: info.threads,
      tfjsVersion: info.tfjsVersion,
      initMs: Math.round(info.initMs * 10) / 10,
      ...(problems.length ? { problems } : {}),
    };
    // Off the wasm backend the isolate is unfit to serve (503); an unloadable model version is reported
    // while earlier versions keep answering (200, "degraded").
    return info.fallback ? c.json(body, 503) : c.json(body, 200);
  });
}

const pingRoute = createRoute({
  method: 'get',
  path: '/',
  summary: 'Liveness: answers without touching TF.js or storage (also the no-op baseline of the HTTP benchmark)',
  responses: {
    200: { description: 'Alive', content: { 'application/json': { schema: z.object({ ok: z.literal(true) }) } } },
  },
});

export function pingRoutes() {
  return newRouter().openapi(pingRoute, (c) => c.json({ ok: true as const }, 200));
}
