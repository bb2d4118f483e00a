/**
 * Live decisions on reviewed labels: the challenger under traffic is promoted, or a new champion is
 * rolled back to the version it replaced, when enough labels arrived. Both versions are scored on the
 * same labelled inputs (paired, as the promotion guard does on a test split) and the registry decides
 * through decidePromotion, at most once per move. Runs after a label, off the response path.
 */
import { compareOnRows, type ChampionEvidence } from '../../shared/study/compare';
import type { LiveDecision, LiveGuard, ReviewItem } from '../../shared/monitor/types';
import type { ModelVersion } from '../../shared/study/types';
import { logError } from '../../shared/log';
import { monitorStub, registryStub } from '../durable/stubs';
import { toMatrix, type Instance } from './predict';
import { argmax } from '../../models/scoring';
import type { LoadedModel, ServingCache, ServingDeps } from './serving';

/** Class probabilities of a leased version for request instances: a table version through its preprocessing. */
export function probabilitiesFor(lease: LoadedModel, instances: Instance[]): Float32Array {
  if (lease.table) return lease.table.predictInstances(instances);
  return lease.predictor.predictProba(
    toMatrix(instances, lease.meta.featureNames, lease.featureIndex),
    instances.length,
  );
}

/** Per labelled item, 1 where `meta` predicts the label; null when the version cannot read the inputs. */
async function correctness(
  serving: ServingCache,
  deps: ServingDeps,
  meta: ModelVersion,
  items: ReviewItem[],
): Promise<Uint8Array | null> {
  const lease = await serving.load(deps, meta);
  try {
    const x = toMatrix(
      items.map((i) => i.input as Instance),
      meta.featureNames,
      lease.featureIndex,
    );
    const probs = lease.predictor.predictProba(x, items.length);
    const c = meta.classNames.length;
    return Uint8Array.from(items, (item, r) => (meta.classNames[argmax(probs, c, r)] === item.label ? 1 : 0));
  } catch (err) {
    logError('live_scoring_failed', { model: meta.model, version: meta.version, reason: String(err) });
    return null;
  } finally {
    lease.release();
  }
}

async function evidence(
  serving: ServingCache,
  deps: ServingDeps,
  champion: ModelVersion,
  challenger: ModelVersion,
  items: ReviewItem[],
): Promise<ChampionEvidence | null> {
  const [a, b] = await Promise.all([
    correctness(serving, deps, champion, items),
    correctness(serving, deps, challenger, items),
  ]);
  if (!a || !b) return null;
  return compareOnRows(
    { championVersion: champion.version, dataset: champion.dataset, datasetVersion: champion.datasetVersion },
    a,
    b,
    'reviewed',
  );
}

/**
 * Looks at the labels and asks the registry for the decisions they support. Returns the decisions it
 * got (moved or not); none while fewer than guard.minLabels labels arrived.
 */
export async function decideOnReviews(
  env: Env,
  serving: ServingCache,
  deps: ServingDeps,
  model: string,
): Promise<LiveDecision[]> {
  const registry = registryStub(env.MODELS, model);
  const monitor = monitorStub(env.MONITORS, model);
  const [stateNow, state] = await Promise.all([registry.serving(), registry.state()]);
  const { current, traffic, guard } = stateNow;
  if (!current) return [];
  const out: LiveDecision[] = [];
  const ask = async (action: LiveDecision['action'], target: ModelVersion, since: string, g: LiveGuard) => {
    const items = await monitor.labelledSince(since);
    if (items.length < g.minLabels) return;
    const ev = await evidence(serving, deps, current, target, items);
    if (!ev) return;
    const answer = await registry.decideLive(action, target.version, ev, {
      margin: g.margin,
      significance: g.significance,
    });
    if (answer.ok) out.push(answer.value);
  };
  // Rollback first: a bad champion goes before anything is promoted over it. Only a promoted champion
  // is rolled back automatically; one an admin rolled back to was chosen deliberately.
  const arrival = [...state.history].reverse().find((e) => e.to === current.version);
  if (arrival?.action === 'promote' && arrival.from !== null) {
    const previous = await registry.version(arrival.from);
    if (previous) await ask('rollback', previous, arrival.at, guard);
  }
  if (traffic && !out.some((d) => d.moved)) await ask('promote', traffic.meta, traffic.since, guard);
  for (const d of out) if (d.moved) serving.forget(model);
  return out;
}
