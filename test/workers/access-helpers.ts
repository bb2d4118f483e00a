import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { expect } from 'vitest';
import { createApp } from '../../functions/api/app';
import type { AccessMode, Scope } from '../../shared/access/scopes';

export const ROOT_TOKEN = env.ADMIN_TOKEN;
const BASE = 'http://edge.test';

/** The same worker app with ACCESS_MODE set per call: both modes over the same real local bindings. */
export function envIn(mode: AccessMode): Env {
  return { ...env, ACCESS_MODE: mode } as Env;
}

export type App = ReturnType<typeof createApp>;
const shared = createApp();

export interface CallInit extends RequestInit {
  json?: unknown;
  token?: string | null;
  app?: App;
}

export async function callIn(
  mode: AccessMode,
  path: string,
  init: CallInit = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const ctx = createExecutionContext();
  const res = await (init.app ?? shared).fetch(
    new Request(`${BASE}${path}`, {
      method: init.method,
      headers,
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    }),
    envIn(mode),
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text so the assertion shows it
  }
  return { status: res.status, body, headers: res.headers };
}

export interface KeyOptions {
  scopes: Scope[];
  models?: string[] | null;
  rateLimit?: { requests: number; perSeconds: number } | null;
  name?: string;
}

/** A key created through the API by the root key; returns its id and token. */
export async function createKey(opts: KeyOptions): Promise<{ id: string; token: string }> {
  const res = await callIn('keys', '/v1/keys', {
    method: 'POST',
    token: ROOT_TOKEN,
    json: {
      name: opts.name ?? opts.scopes.join('+'),
      scopes: opts.scopes,
      models: opts.models ?? null,
      rateLimit: opts.rateLimit ?? null,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.key.id, token: res.body.token };
}
