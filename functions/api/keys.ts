/**
 * /v1/keys (admin): create a scoped API key (its token shown once), list keys (never their tokens or
 * hashes), revoke one with immediate effect. /v1/keys/self (any key): what the caller may do. /v1/audit (admin): the trail of admin actions.
 *
 * Creation writes the listing first, then the key's own object: if the second write fails the listing
 * shows a key whose token nobody ever saw, harmless. Revocation writes the key's object first (that is
 * what requests consult), then the listing; repeating a DELETE repairs a listing that missed it.
 */
import type { KeyRecord } from '../../shared/access/records';
import { summaryOf } from '../../shared/access/records';
import { hasScope, parseAccessMode, SCOPES } from '../../shared/access/scopes';
import { newApiKey } from '../../shared/access/tokens';
import { OPEN_SCOPES } from './access';
import { ApiError } from './http/errors';
import { log } from '../../shared/log';
import { apiKeyStub, auditStub, keyDirectoryStub } from '../durable/stubs';
import { errors, jsonBody, jsonContent, newRouter, route } from './router';
import {
  AuditPageSchema,
  AuditQuery,
  KeyCreatedSchema,
  KeyIdParam,
  KeyListSchema,
  KeySelfSchema,
  KeyRequestSchema,
  KeySummarySchema,
} from './schemas';

const createKeyRoute = route('admin', 'all', {
  method: 'post',
  path: '/',
  summary: 'Create an API key (admin); the token is in this answer only',
  request: jsonBody(KeyRequestSchema),
  responses: { 201: jsonContent(KeyCreatedSchema, 'Created'), ...errors({ 422: 'Invalid request' }) },
});
const listKeysRoute = route('admin', 'all', {
  method: 'get',
  path: '/',
  summary: 'API keys, newest first, without their tokens (admin)',
  responses: { 200: jsonContent(KeyListSchema, 'Keys') },
});
const revokeKeyRoute = route('admin', 'all', {
  method: 'delete',
  path: '/{id}',
  summary: 'Revoke an API key (admin): every request with it fails from now on',
  request: { params: KeyIdParam },
  responses: { 200: jsonContent(KeySummarySchema, 'Revoked (or already revoked)'), ...errors({ 404: 'Unknown key' }) },
});

const selfRoute = route('any', 'checked', {
  method: 'get',
  path: '/self',
  summary: 'What the presented key may do (any valid key; no key in open mode): the dashboard hides the rest',
  responses: { 200: jsonContent(KeySelfSchema, 'Scopes and models of this caller') },
});

export function keyRoutes() {
  return newRouter()
    .openapi(selfRoute, (c) => {
      const mode = parseAccessMode(c.env.ACCESS_MODE);
      const principal = c.var.access.principal;
      // In open mode reads and predictions are everyone's, whatever the key says.
      const scopes = SCOPES.filter(
        (s) => (principal !== null && hasScope(principal, s)) || (mode === 'open' && OPEN_SCOPES.includes(s)),
      );
      return c.json({ mode, keyId: principal?.keyId ?? null, scopes, models: principal?.models ?? null }, 200);
    })
    .openapi(createKeyRoute, async (c) => {
      const spec = c.req.valid('json');
      const { id, token, hash } = await newApiKey();
      const record: KeyRecord = {
        id,
        hash,
        name: spec.name,
        scopes: [...new Set(spec.scopes)],
        models: spec.models ? [...new Set(spec.models)] : null,
        rateLimit: spec.rateLimit,
        createdAt: new Date().toISOString(),
        createdBy: c.var.access.principal?.keyId ?? 'root',
        revokedAt: null,
      };
      await keyDirectoryStub(c.env.KEY_DIRECTORY).add(summaryOf(record));
      if (!(await apiKeyStub(c.env.KEYS, id).create(record))) throw new Error(`key id ${id} already exists`);
      log('key_created', { id, name: record.name, scopes: record.scopes, models: record.models, by: record.createdBy });
      return c.json({ key: summaryOf(record), token }, 201);
    })
    .openapi(listKeysRoute, async (c) => c.json({ keys: await keyDirectoryStub(c.env.KEY_DIRECTORY).list() }, 200))
    .openapi(revokeKeyRoute, async (c) => {
      const { id } = c.req.valid('param');
      const summary = await apiKeyStub(c.env.KEYS, id).revoke(new Date().toISOString());
      if (!summary) throw new ApiError('not_found', `unknown key "${id}"`);
      await keyDirectoryStub(c.env.KEY_DIRECTORY).update(summary);
      log('key_revoked', { id, at: summary.revokedAt, by: c.var.access.principal?.keyId ?? 'root' });
      return c.json(summary, 200);
    });
}

const auditRoute = route('admin', 'all', {
  method: 'get',
  path: '/',
  summary: 'Admin actions, newest first, a page at a time (admin)',
  request: { query: AuditQuery },
  responses: { 200: jsonContent(AuditPageSchema, 'A page of the trail'), ...errors({ 422: 'Bad query' }) },
});

export function auditRoutes() {
  return newRouter().openapi(auditRoute, async (c) => {
    const { limit, before } = c.req.valid('query');
    return c.json(await auditStub(c.env.AUDIT).page(limit, before ?? null), 200);
  });
}
