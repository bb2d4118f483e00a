import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { call } from './api-helpers';

/** The object behind a session id, for the alarm and storage helpers of cloudflare:test. */
export const sessionObject = (id: string) => env.SESSIONS.get(env.SESSIONS.idFromName(id));

/**
 * A small stored dataset (3 classes x 30 rows, 4 features); `shift` moves feature a, so a second upload under
 * the same name is a new version. Returns the version.
 */
export async function uploadSmall(name: string, shift = 0): Promise<string> {
  const rows: number[][] = [];
  const labels: string[] = [];
  for (let r = 0; r < 90; r++) {
    const c = r % 3;
    rows.push([c + shift, c * 2 - 1, ((r * 7) % 11) / 11, ((r * 5) % 13) / 13]);
    labels.push(`c${c}`);
  }
  const res = await call(`/v1/datasets/${name}`, {
    method: 'PUT',
    admin: true,
    json: { features: ['a', 'b', 'c', 'd'], rows, labels },
  });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body.version as string;
}

/** A small session whose slices run only when a test fires the alarm (an hour apart otherwise). */
export async function startSmallSession(
  dataset: string,
  model: string,
  config: Record<string, unknown> = {},
): Promise<string> {
  const res = await call('/v1/sessions', {
    method: 'POST',
    admin: true,
    json: {
      dataset,
      model,
      config: { depth: 1, width: 8, epochs: 6, batchSize: 16, ...config },
      seed: 3,
      slice: { epochs: 1, intervalMs: 3_600_000 },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id as string;
}
