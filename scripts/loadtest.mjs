// `npm run loadtest`: predict traffic against `wrangler dev` on 127.0.0.1 with a promotion in the middle.
// Checks that every response is a 200 answered by exactly one version: its `version` field must match
// its probabilities (compared with that version's own answer from the pinned-version endpoint).
// Writes bench/loadtest.json; bounded by --seconds and --connections; loopback only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { startDevServer } from './dev-server.mjs';
import { closedLoop } from './load.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '30' }, connections: { type: 'string', default: '8' } },
});
const SECONDS = Math.min(120, Number(args.seconds));
const CONNECTIONS = Math.min(64, Number(args.connections));
const token = readFileSync(path.join(root, '.dev.vars'), 'utf8')
  .split('\n')
  .find((l) => l.startsWith('ADMIN_TOKEN='))
  .slice('ADMIN_TOKEN='.length)
  .trim();

const lines = gunzipSync(readFileSync(path.join(root, 'models/data/digits.csv.gz')))
  .toString('utf8')
  .trim()
  .split('\n');
const rows = lines.slice(0, 32).map((l) => l.split(',').slice(0, 64).map(Number));

async function json(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${res.status}: ${text.slice(0, 200)}`);
  }
}

async function study(base, body) {
  const res = await fetch(`${base}/v1/studies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ dataset: 'digits', ...body }),
  });
  const { id } = await json(res);
  for (;;) {
    const view = await json(await fetch(`${base}/v1/studies/${id}`));
    if (view.status === 'complete') return view;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// Keyless predictions in open mode are limited to 100 per 10 s per client address (all of this traffic comes
// from one), so the load is sent as a deployment's client would send it: with an unlimited predict key.
let apiKey = null;

async function createKey(base) {
  const res = await fetch(`${base}/v1/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'loadtest', scopes: ['predict', 'read'], rateLimit: null }),
  });
  const body = await json(res);
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** Each version's own answer for every test row, from the pinned endpoint. */
async function reference(base, version) {
  const res = await fetch(`${base}/v1/models/digits/versions/${version}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ instances: rows }),
  });
  return (await json(res)).predictions.map((p) => p.probabilities);
}

function same(a, b) {
  return Object.keys(a).every((k) => Math.abs(a[k] - b[k]) <= 1e-6);
}

async function main() {
  const persistTo = mkdtempSync(path.join(tmpdir(), 'edge-tuner-load-'));
  const server = await startDevServer({ persistTo });
  const base = server.url;
  try {
    console.log(`wrangler dev on ${base}; seeding version 1 (1 trial x 2 epochs) ...`);
    const first = await study(base, { trials: 1, seed: 1, budget: { epochs: 2, maxSeconds: 60 } });
    apiKey = await createKey(base);
    if (!first.promotion.promoted) throw new Error('the seed study did not promote');
    const refs = new Map([[first.promotion.version, await reference(base, first.promotion.version)]]);

    const responses = [];
    let promotedAt = null;
    let secondVersion = null;
    // The challenger trains during the load (in production it would run in other isolates) and is
    // far stronger than the 2-epoch champion, so it is promoted mid-run.
    const promotion = (async () => {
      await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 4));
      const startedAt = performance.now();
      const view = await study(base, { trials: 2, seed: 5, parallelism: 2, budget: { epochs: 15, maxSeconds: 60 } });
      promotedAt = (performance.now() - startedAt) / 1000;
      secondVersion = view.promotion.version;
      return view;
    })();
    console.log(`load: ${CONNECTIONS} connections for ${SECONDS} s, a promotion in the middle ...`);
    const result = await closedLoop({
      url: `${base}/v1/models/digits/predict`,
      init: () => ({
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ instances: [rows[Math.floor(Math.random() * rows.length)]] }),
      }),
      connections: CONNECTIONS,
      seconds: SECONDS,
      onResponse: (r) => responses.push(r),
    });
    const view = await promotion;
    if (!view.promotion.promoted) throw new Error(`the mid-run study did not promote: ${view.promotion.reason}`);
    refs.set(secondVersion, await reference(base, secondVersion));

    // The row behind each response is not tracked (workers interleave); a response is consistent when its
    // probabilities equal its claimed version's answer for one of the rows — a mixed or other-version
    // answer matches none of them.
    const perVersion = {};
    let inconsistent = 0;
    let errors = 0;
    for (const p of responses) {
      if (p.status !== 200) {
        errors++;
        continue;
      }
      const body = JSON.parse(p.body);
      perVersion[body.version] = (perVersion[body.version] ?? 0) + 1;
      const ref = refs.get(body.version);
      if (!ref || !ref.some((probs) => same(probs, body.predictions[0].probabilities))) inconsistent++;
    }
    const summary = {
      generated_at: new Date().toISOString(),
      setup: {
        connections: CONNECTIONS,
        seconds: SECONDS,
        target: 'POST /v1/models/digits/predict (1 row)',
        server: 'wrangler dev, 127.0.0.1',
        promotion: 'a 2-trial x 15-epoch study started at 1/4 of the run',
      },
      requests: result.requests,
      errors,
      inconsistent,
      per_version: perVersion,
      rps: result.rps,
      p50_ms: result.p50_ms,
      p99_ms: result.p99_ms,
      max_ms: result.max_ms,
      promotion: { from: first.promotion.version, to: secondVersion, study_seconds: promotedAt },
    };
    writeFileSync(path.join(root, 'bench', 'loadtest.json'), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(JSON.stringify(summary, null, 2));
    if (errors || inconsistent || Object.keys(perVersion).length < 2) {
      console.error('FAILED: errors, inconsistent answers, or the promotion was not seen under load');
      process.exitCode = 1;
    }
  } finally {
    await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
