/**
 * /openapi.json for this deployment. Every scoped operation carries `security` (the bearer key),
 * `x-scope`, `x-models` and the 401/403/429 answers (router.ts, requireScope). In open mode the `read`
 * and `predict` operations (and `any`: GET /v1/keys/self) also accept no key (an empty security
 * requirement) and cannot answer 403, so
 * the document tells a client exactly what this deployment asks of it.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AccessMode } from '../../shared/access/scopes';
import type { AppEnv } from './router';

type Operation = {
  security?: Record<string, string[]>[];
  'x-scope'?: string;
  responses?: Record<string, unknown>;
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** Once per app, before the first document. */
export function registerSecurityScheme(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key (etk_…, from POST /v1/keys) or the ADMIN_TOKEN secret (the root key). Each operation names the scope it needs in `x-scope`; `admin` implies every scope.',
  });
}

export function openApiDocument(app: OpenAPIHono<AppEnv>, mode: AccessMode) {
  const doc = app.getOpenAPIDocument({
    openapi: '3.0.3',
    info: {
      title: 'edge-tuner',
      version: '1.0.0',
      description: `Hyperparameter tuning and model serving on Cloudflare Workers (TF.js WASM-SIMD). Access mode: ${mode}.`,
    },
  });
  if (mode === 'open') {
    for (const item of Object.values(doc.paths ?? {})) {
      for (const op of Object.values(item as Record<string, Operation>)) {
        if (op['x-scope'] !== 'read' && op['x-scope'] !== 'predict' && op['x-scope'] !== 'any') continue;
        op.security = [...(op.security ?? []), {}];
        const { 403: _forbidden, ...responses } = op.responses ?? {};
        op.responses = { ...responses, 401: errorResponse('A key was sent and is unknown or revoked') };
      }
    }
  }
  return doc;
}
