import { Hono } from 'hono';
import { ApiError, errorBody } from '../../shared/http/errors';
import { health } from './health';

export type AppEnv = { Bindings: Env };

/** Builds the HTTP surface: one sub-app per resource, every error mapped to one JSON shape. */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.route('/health', health);

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status);
    console.error(JSON.stringify({ event: 'error', message: String(err) }));
    return c.json(errorBody('internal', 'internal error'), 500);
  });
  return app;
}
