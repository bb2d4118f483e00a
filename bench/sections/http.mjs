/**
 * HTTP and cold start, against `wrangler dev` on 127.0.0.1 (the worker bundle in local workerd):
 *
 * - throughput: closed-loop load with fixed connections and duration on POST predict (1 row) and on
 *   the no-op JSON route GET /ping, alternated and repeated in one run; medians and ranges.
 * - cold start: a fresh `wrangler dev` (fresh isolate) over the same persisted state, then the time of
 *   the first prediction (backend init, registry read, weights from KV, fold) as the client sees it.
 *
 * The load generator shares the machine's 2 cores with workerd, so absolute rates are bounded by both;
 * the predict/no-op ratio is the figure that transfers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { closedLoop, median } from '../../scripts/load.mjs';
import { startDevServer } from '../../scripts/dev-server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 8);
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 4);
const COLD_STARTS = Number(process.env.BENCH_COLD_STARTS ?? 5);
// The recommended deployment: ACCESS_MODE=keys, predictions made with an API key (one SHA-256 and one
// call to the key's Durable Object per request).
const ACCESS = ['--var', 'ACCESS_MODE:keys'];

async function createKey(base) {
  const res = await fetch(`${base}/v1/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken()}` },
    body: JSON.stringify({ name: 'bench', scopes: ['predict', 'read'], rateLimit: null }),
  });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

function adminToken() {
  const line = readFileSync(join(root, '.dev.vars'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ADMIN_TOKEN='));
  return line.slice('ADMIN_TOKEN='.length).trim();
}

function digitsRow() {
  const first = gunzipSync(readFileSync(join(root, 'models/data/digits.csv.gz')))
    .toString('utf8')
    .split('\n')[0];
  return first.split(',').slice(0, 64).map(Number);
}

async function seedModel(base) {
  const res = await fetch(`${base}/v1/studies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken()}` },
    body: JSON.stringify({ dataset: 'digits', trials: 2, seed: 1, budget: { epochs: 10, maxSeconds: 60 } }),
  });
  const { id } = await res.json();
  for (;;) {
    const view = await (
      await fetch(`${base}/v1/studies/${id}`, { headers: { authorization: `Bearer ${adminToken()}` } })
    ).json();
    if (view.status === 'complete') return view;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const range = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

export default {
  name: 'http',
  async run() {
    const persistTo = mkdtempSync(join(tmpdir(), 'edge-tuner-http-'));
    const body = JSON.stringify({ instances: [digitsRow()] });
    try {
      let server = await startDevServer({ persistTo, extraArgs: ACCESS });
      const key = await createKey(server.url);
      const predictInit = {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body,
      };
      const view = await seedModel(server.url);
      if (!view.promotion?.promoted) throw new Error(`seed study did not promote: ${JSON.stringify(view.promotion)}`);
      // Warm the isolate: backend, pointer, weights.
      await closedLoop({
        url: `${server.url}/v1/models/digits/predict`,
        init: predictInit,
        connections: 2,
        seconds: 1,
      });
      await closedLoop({ url: `${server.url}/ping`, connections: 2, seconds: 1 });

      // Every prediction flagged for review (threshold 1): the worst case of the live loop, a review-queue
      // hand-over (waitUntil, the ModelMonitor object) on every request up to the isolate's gate, besides
      // the drift sketch and confidence counters every prediction feeds.
      const flaggedInit = { ...predictInit, body: JSON.stringify({ instances: [digitsRow()], threshold: 1 }) };
      const predict = [];
      const flagged = [];
      const noop = [];
      for (let i = 0; i < REPEATS; i++) {
        noop.push(await closedLoop({ url: `${server.url}/ping`, connections: CONNECTIONS, seconds: SECONDS }));
        predict.push(
          await closedLoop({
            url: `${server.url}/v1/models/digits/predict`,
            init: predictInit,
            connections: CONNECTIONS,
            seconds: SECONDS,
          }),
        );
        flagged.push(
          await closedLoop({
            url: `${server.url}/v1/models/digits/predict`,
            init: flaggedInit,
            connections: CONNECTIONS,
            seconds: SECONDS,
          }),
        );
      }
      const errors = [...predict, ...flagged, ...noop].reduce((n, r) => n + r.errors, 0);
      if (errors) throw new Error(`${errors} non-200 responses during the HTTP benchmark`);
      await server.stop();

      // Cold start: a new process (new isolate) over the same state; time of the first prediction.
      const cold = [];
      for (let i = 0; i < COLD_STARTS; i++) {
        server = await startDevServer({ persistTo, extraArgs: ACCESS });
        const t0 = performance.now();
        const res = await fetch(`${server.url}/v1/models/digits/predict`, predictInit);
        await res.text();
        const client = performance.now() - t0;
        const timing = /predict;dur=([\d.]+);desc="cold"/.exec(res.headers.get('server-timing') ?? '');
        if (!timing) throw new Error(`the first prediction was not marked cold: ${res.headers.get('server-timing')}`);
        const warmRes = await fetch(`${server.url}/v1/models/digits/predict`, predictInit);
        await warmRes.text();
        const warm = Number(/predict;dur=([\d.]+)/.exec(warmRes.headers.get('server-timing') ?? '')?.[1]);
        cold.push({ first: Number(timing[1]), client, warm, status: res.status });
        await server.stop();
      }
      if (cold.some((c) => c.status !== 200)) throw new Error(`cold-start predictions failed: ${JSON.stringify(cold)}`);

      const predictRps = predict.map((r) => r.rps);
      const noopRps = noop.map((r) => r.rps);
      const ratios = predict.map((r, i) => r.rps / noop[i].rps);
      return {
        'http.predict_rps': range(predictRps),
        'http.noop_rps': range(noopRps),
        'http.ratio': range(ratios),
        'http.predict_flagged_rps': range(flagged.map((r) => r.rps)),
        'http.flagged_ratio': range(flagged.map((r, i) => r.rps / noop[i].rps)),
        'http.flagged_p50_ms': range(flagged.map((r) => r.p50_ms)),
        'http.p50_ms': range(predict.map((r) => r.p50_ms)),
        'http.p99_ms': range(predict.map((r) => r.p99_ms)),
        'http.noop_p50_ms': range(noop.map((r) => r.p50_ms)),
        'http.noop_p99_ms': range(noop.map((r) => r.p99_ms)),
        'http.setup': {
          connections: CONNECTIONS,
          seconds_per_run: SECONDS,
          repeats: REPEATS,
          body: 'POST /v1/models/digits/predict, 1 row of 64 pixels, with an API key (ACCESS_MODE=keys)',
          flagged: 'the same prediction with threshold 1: flagged for review on every request',
          live_loop: 'review queue, audit sample, drift sketch and confidence counters on for every prediction',
          baseline: 'GET /ping',
        },
        cold_start_ms: range(cold.map((c) => c.first)),
        'cold_start.client_ms': range(cold.map((c) => c.client)),
        'cold_start.warm_handler_ms': range(cold.map((c) => c.warm)),
        'cold_start.setup': {
          starts: COLD_STARTS,
          what: "first POST predict in a fresh isolate (a new wrangler dev process over persisted state), measured inside the worker (Server-Timing): wasm backend init, registry pointer (Durable Object), weights from KV, decode, fold, predict. client_ms adds loopback HTTP and wrangler's local proxy; module parse/instantiation before the first request is not included",
        },
      };
    } finally {
      rmSync(persistTo, { recursive: true, force: true });
    }
  },
};
