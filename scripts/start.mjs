// `npm start`: the main job on the embedded default. Starts the local edge stack (wrangler dev, with
// local KV, Queues, Durable Objects and cron), runs a random-search study on digits through the real
// trial queue, shows its progress, prints the leaderboard, the promoted champion and a ready-to-paste
// curl, then keeps serving. Local state persists under .wrangler/state, so a second run continues from it.
import { mkdirSync, createWriteStream, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, startDevServer } from './dev-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '24' },
    epochs: { type: 'string', default: '20' },
    parallelism: { type: 'string', default: '4' },
    seed: { type: 'string' },
    port: { type: 'string' },
    'no-serve': { type: 'boolean', default: false },
  },
});

function devVar(name) {
  const text = readFileSync(path.join(root, '.dev.vars'), 'utf8');
  const line = text.split('\n').find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`${name} is missing from .dev.vars`);
  return line.slice(name.length + 1).trim();
}

const token = devVar('ADMIN_TOKEN');
const pct = (v) => (v === null || v === undefined ? '   -  ' : `${(v * 100).toFixed(2)}%`);

async function api(base, method, p, body) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(method !== 'GET' ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  return { status: res.status, body: json };
}

/** The guard's evidence in one line: both models on the same test rows, the disagreements, McNemar's p. */
function evidence(c) {
  if (!c) return 'no champion to compare with';
  if (!c.comparable) return `champion v${c.championVersion} not comparable (${c.reason})`;
  const p = c.pValue < 1e-4 ? c.pValue.toExponential(1) : String(Number(c.pValue.toPrecision(3)));
  return `challenger ${pct(c.challengerAccuracy)} vs champion v${c.championVersion} ${pct(c.championAccuracy)} on the same ${c.rows} test rows; ${c.discordant.challengerOnly} rows only the challenger gets right, ${c.discordant.championOnly} only the champion; McNemar p = ${p}`;
}

function describeConfig(c) {
  const bn = c.batchNorm ? `BN-${c.bnPlacement}` : 'no-BN';
  return `${c.optimizer.padEnd(8)} lr=${c.learningRate.toExponential(1)} ${String(c.depth)}x${String(c.width).padEnd(4)} ${c.activation.padEnd(7)} ${bn.padEnd(9)} batch=${String(c.batchSize).padEnd(4)} drop=${c.dropout.toFixed(2)}`;
}

async function main() {
  mkdirSync(path.join(root, '.wrangler'), { recursive: true });
  const logFile = path.join(root, '.wrangler', 'dev.log');
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const port = args.port ? Number(args.port) : await freePort().then(async (p) => ((await isFree(8787)) ? 8787 : p));
  console.log(
    `Starting the local edge stack (wrangler dev on http://127.0.0.1:${port}; worker logs: ${path.relative(process.cwd(), logFile)}) ...`,
  );
  const server = await startDevServer({ port, log: (line) => logStream.write(`${line}\n`), timeoutMs: 120_000 });
  const base = server.url;
  const stop = async () => {
    await server.stop();
    logStream.end();
  };
  process.on('SIGINT', () => stop().then(() => process.exit(0)));
  process.on('SIGTERM', () => stop().then(() => process.exit(0)));

  const health = await api(base, 'GET', '/health');
  console.log(
    `Backend: ${health.body.backend}${health.body.simd ? ' (SIMD)' : ''}, TF.js ${health.body.tfjsVersion}${health.body.status !== 'ok' ? `  !! ${health.body.status}: ${(health.body.problems ?? []).join('; ')}` : ''}`,
  );

  const before = await api(base, 'GET', '/v1/studies');
  const earlier = before.body.studies.filter((s) => s.model === 'digits');
  // A fresh state starts at seed 7; every later run takes the next seed, so runs are reproducible and new.
  const seed = args.seed !== undefined ? Number(args.seed) : 7 + earlier.length;
  let studyId;
  const started = await api(base, 'POST', '/v1/studies', {
    dataset: 'digits',
    strategy: 'random',
    trials: Number(args.trials),
    seed,
    parallelism: Number(args.parallelism),
    budget: { epochs: Number(args.epochs), maxSeconds: 60 },
  });
  if (started.status === 202) {
    studyId = started.body.id;
    console.log(
      `Study ${studyId}: random search, ${args.trials} trials x ${args.epochs} epochs, seed ${seed}, parallelism ${args.parallelism}`,
    );
  } else if (started.status === 409) {
    studyId =
      earlier.find((s) => s.status === 'running')?.id ??
      /study (\S+) is already running/.exec(started.body.error.message)?.[1];
    console.log(`A digits study is already running (${studyId}); following it.`);
  } else {
    throw new Error(`could not start the study: ${started.status} ${JSON.stringify(started.body)}`);
  }

  const t0 = Date.now();
  let last = '';
  let view;
  for (;;) {
    view = (await api(base, 'GET', `/v1/studies/${studyId}`)).body;
    const p = view.progress;
    const line = `  ${String(p.complete + p.pruned + p.diverged + p.failed).padStart(3)}/${p.total} trials finished (${p.complete} complete, ${p.pruned ? `${p.pruned} pruned, ` : ''}${p.diverged} diverged, ${p.failed} failed, ${p.running} running)  best validation accuracy ${pct(view.best?.valAccuracy)}`;
    if (line !== last) {
      console.log(`${line}  [${((Date.now() - t0) / 1000).toFixed(0)}s]`);
      last = line;
    }
    if (view.status === 'complete') break;
    await new Promise((r) => setTimeout(r, 500));
  }

  console.log('\nLeaderboard (validation accuracy):');
  for (const e of view.leaderboard.slice(0, 8)) {
    console.log(
      `  #${String(e.trial).padStart(2)}  ${pct(e.valAccuracy)}  ${e.status.padEnd(8)}  ${describeConfig(e.config)}`,
    );
  }
  const pr = view.promotion;
  console.log(
    `\nPromotion: ${pr.promoted ? `promoted as version ${pr.version}` : 'not promoted'} — ${evidence(pr.comparison)}`,
  );
  console.log(`  ${pr.reason}`);
  if (pr.advice) console.log(`  ${pr.advice}`);
  const model = await api(base, 'GET', '/v1/models/digits');
  if (model.status === 200) {
    const m = model.body;
    console.log(
      `Champion: digits v${m.version} from ${m.studyId} trial ${m.trial}: validation ${pct(m.metrics.validationAccuracy)}, test ${pct(m.metrics.testAccuracy)}`,
    );
    const [firstRow] = gunzipSync(readFileSync(path.join(root, 'models', 'data', 'digits.csv.gz')))
      .toString('utf8')
      .split('\n');
    const cells = firstRow.split(',').map(Number);
    const pixels = cells.slice(0, 64);
    console.log(`\nPredict (this row is a handwritten ${cells[64]}):`);
    console.log(
      `  curl -s -X POST ${base}/v1/models/digits/predict -H 'content-type: application/json' -d '{"instances":[[${pixels.join(',')}]]}'`,
    );
    const pred = await api(base, 'POST', '/v1/models/digits/predict', { instances: [pixels] });
    const p0 = pred.body.predictions?.[0];
    if (p0) console.log(`  -> label ${p0.label}, confidence ${p0.confidence.toFixed(4)}, review ${p0.review}`);
  } else {
    console.log(`No champion yet: ${model.body.error.message}`);
  }
  console.log(
    `\nDashboard: ${base}/   API: ${base}/openapi.json   studies: ${base}/v1/studies   health: ${base}/health`,
  );
  if (args['no-serve']) {
    await stop();
    return;
  }
  console.log('Serving; press Ctrl+C to stop.');
}

async function isFree(port) {
  try {
    await fetch(`http://127.0.0.1:${port}/`);
    return false;
  } catch {
    return true;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
