import { HTTPException } from 'hono/http-exception';
import { publicCors } from './http/cors';
import { fromDomainError } from './domain-errors';
import { ApiError, errorBody } from './http/errors';
import { logError } from '../../shared/log';
import { ServingCache } from '../services/serving';
import { LiveMonitor } from '../services/live';
import { healthRoutes, pingRoutes } from './health';
import { newRouter } from './router';
import { modelRoutes } from './models';
import { liveRoutes } from './live';
import { datasetRoutes } from './datasets';

import { studyRoutes } from './studies';
import { sessionRoutes } from './sessions';
import { auditRoutes, keyRoutes } from './keys';
import { openApiDocument, registerSecurityScheme } from './openapi';
import { KeyLeases } from '../../shared/access/leases';
import { AuthFailures } from './auth-failures';
import { parseAccessMode } from '../../shared/access/scopes';

/**
 * Builds the HTTP surface once per isolate. The serving cache, the key leases and the memory of
 * addresses with too many failed authentications live in this closure (not in module globals) and
 * reach handlers through c.var.
 */
export function createApp(serving = new ServingCache(), live = new LiveMonitor()) {
  const app = newRouter();
  const leases = new KeyLeases();
  const failures = new AuthFailures();

  app.use('*', async (c, next) => {
    c.set('serving', serving);
    c.set('leases', leases);
    c.set('failures', failures);
    c.set('live', live);
    await next();
  });
  app.use('*', publicCors());
  // Server-Timing on predictions: the handler's own time, and whether this was the isolate's first
  // (cold: backend init, registry pointer, weights from KV, fold) — read by the cold-start benchmark.
  let served = 0;
  app.use('/v1/models/*', async (c, next) => {
    if (c.req.method !== 'POST' || !c.req.path.endsWith('/predict')) return next();
    const started = performance.now();
    const cold = served++ === 0;
    if (cold) serving.warm();
    await next();
    c.res.headers.append(
      'server-timing',
      `predict;dur=${(performance.now() - started).toFixed(2)}${cold ? ';desc="cold"' : ''}`,
    );
  });
  app.route('/health', healthRoutes());
  app.route('/ping', pingRoutes());
  app.route('/v1/models', modelRoutes());
  app.route('/v1', liveRoutes());
  app.route('/v1/studies', studyRoutes());
  app.route('/v1/sessions', sessionRoutes());
  app.route('/v1/datasets', datasetRoutes());
  app.route('/v1/keys', keyRoutes());
  app.route('/v1/audit', auditRoutes());

  registerSecurityScheme(app);
  app.get('/openapi.json', (c) => c.json(openApiDocument(app, parseAccessMode(c.env.ACCESS_MODE))));

  app.notFound((c) =>
    c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404),
  );
  app.onError((err, c) => {
    const known = err instanceof ApiError ? err : fromDomainError(err);
    if (known) return c.json(errorBody(known.code, known.message), known.status, known.headers);
    // Hono's own 4xx (e.g. malformed JSON from the validator) keep their status with our shape.
    if (err instanceof HTTPException && err.status < 500) {
      if (err.status === 415) {
        return c.json(
          errorBody(
            'unsupported_media_type',
            `content type "${c.req.header('content-type') ?? 'none'}" is not accepted here`,
          ),
          415,
        );
      }
      const code = err.status === 400 ? 'invalid_json' : err.status === 413 ? 'payload_too_large' : 'bad_request';
      return c.json(errorBody(code, err.message || 'bad request'), err.status);
    }
    logError('unhandled_error', {
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      message: err instanceof Error ? err.message : String(err),
    });
    return c.json(errorBody('internal', 'internal error'), 500);
  });
  return app;
}
