/**
 * Shadow mode: the challenger predicts the same instances after the response was sent; only whether it
 * agrees with the champion's labels is kept (LiveMonitor's counters). The response never changes.
 */
import { logError } from '../../shared/log';
import type { ModelVersion } from '../../shared/study/types';
import { argmax } from '../../models/scoring';
import type { LiveMonitor } from './live';
import type { Instance, Prediction } from './predict';
import { probabilitiesFor } from './live-guard';
import type { ServingCache, ServingDeps } from './serving';

export async function shadowPredict(
  env: Env,
  serving: ServingCache,
  live: LiveMonitor,
  deps: ServingDeps,
  challenger: ModelVersion,
  instances: Instance[],
  championAnswers: Prediction[],
  championVersion: number,
): Promise<void> {
  try {
    const lease = await serving.load(deps, challenger);
    try {
      const probs = probabilitiesFor(lease, instances);
      const c = challenger.classNames.length;
      let agreed = 0;
      championAnswers.forEach((p, r) => {
        if (challenger.classNames[argmax(probs, c, r)] === p.label) agreed += 1;
      });
      live.agreement(challenger.model, championVersion, challenger.version, 'shadow', instances.length, agreed);
      await live.flushIfDue(env, challenger.model);
    } finally {
      lease.release();
    }
  } catch (err) {
    // A challenger that cannot read these inputs (other features) is not compared; the answer stands.
    logError('shadow_failed', { model: challenger.model, version: challenger.version, reason: String(err) });
  }
}
