import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer } from '../../scripts/dev-server.mjs';

// The workers project runs modules through the vitest plugin; this one runs the bundle exactly as
// `wrangler dev` (and so `wrangler deploy`) builds it, which is where module rules, [define] and
// minification apply.
let server: { url: string; stop: () => Promise<void>; output: () => string };
beforeAll(async () => {
  server = await startDevServer();
}, 90_000);
afterAll(async () => server?.stop());

describe('wrangler dev serves the real bundle', () => {
  it('GET /health: wasm backend with SIMD, not the cpu fallback', async () => {
    const res = await fetch(`${server.url}/health`);
    const body = await res.json();
    expect(body, server.output()).toMatchObject({ status: 'ok', backend: 'wasm', simd: true, binary: 'simd' });
    expect(res.status).toBe(200);
  });
});
