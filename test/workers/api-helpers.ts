import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { studyStub } from '../../functions/durable/stubs';

export const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const BASE = 'http://edge.test';

export async function call(
  path: string,
  init: RequestInit & { json?: unknown; admin?: boolean } = {},
): Promise<{ status: number; body: any }> {
  const headers = new Headers(init.headers);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  if (init.admin) headers.set('authorization', ADMIN.authorization);
  const res = await exports.default.fetch(`${BASE}${path}`, {
    ...init,
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text so the assertion shows it
  }
  return { status: res.status, body };
}

/** A short study on digits under its own model name, so tests do not share champions. */
export function studyRequest(model: string, overrides: Record<string, unknown> = {}) {
  return {
    dataset: 'digits',
    model,
    trials: 4,
    seed: 7,
    parallelism: 2,
    budget: { epochs: 3, maxSeconds: 30 },
    ...overrides,
  };
}

export async function startStudy(model: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await call('/v1/studies', { method: 'POST', admin: true, json: studyRequest(model, overrides) });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id as string;
}

/**
 * Polls the study until it completes (the local queue delivers trials in the background) and KV holds
 * everything it is owed (records and aggregate are published after the commit, retried a second later
 * when KV refuses a write).
 */
export async function waitForStudy(id: string, timeoutMs = 90_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(`/v1/studies/${id}`);
    expect(res.status).toBe(200);
    if (res.body.status === 'complete' && (await studyStub(env.STUDIES, id).published())) return res.body;
    if (Date.now() > deadline) throw new Error(`study ${id} did not complete: ${JSON.stringify(res.body.progress)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
