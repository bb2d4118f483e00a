/**
 * One Durable Object per model name: the strongly consistent home of the current-version pointer,
 * the versions, the promotion history and the model's one running study.
 *
 * Every state change below is a run of storage operations with no other I/O in between, so the
 * Durable Object's input gate makes it atomic: readers see the old pointer or the new one.
 */
import { DurableObject } from 'cloudflare:workers';
import { log, logError } from '../../shared/log';
import { registryKeys } from '../../shared/storage/keys';
import type { ModelHeadline } from '../../shared/storage/headlines';
import { D1Listings } from '../../shared/storage/listings';
import { decidePromotion, type ChampionEvidence, type GuardSettings } from '../../shared/study/compare';
import type { ModelVersion, PromotionOutcome, RegistryEvent, VersionCandidate } from '../../shared/study/types';
import { DEFAULT_LIVE_GUARD, type LiveDecision, type LiveGuard, type TrafficSetting } from '../../shared/monitor/types';
import {
  ok,
  refuse,
  type ModelRegistryContract,
  type RegistryState,
  type Result,
  type ServingState,
} from './contracts';

export class ModelRegistry extends DurableObject<Env> implements ModelRegistryContract {
  private async currentVersion(): Promise<ModelVersion | null> {
    const v = await this.ctx.storage.get<number>('current');
    return v === undefined ? null : ((await this.ctx.storage.get<ModelVersion>(registryKeys.version(v))) ?? null);
  }

  /** The serving pointer: the current version's metadata (weights are in KV under weightsKey). */
  async current(): Promise<ModelVersion | null> {
    return this.currentVersion();
  }

  async version(v: number): Promise<ModelVersion | null> {
    return (await this.ctx.storage.get<ModelVersion>(registryKeys.version(v))) ?? null;
  }

  async state(): Promise<RegistryState> {
    const versions = await this.ctx.storage.list<ModelVersion>({ prefix: registryKeys.versionPrefix });
    return {
      model: (await this.ctx.storage.get<string>('model')) ?? '',
      current: await this.currentVersion(),
      versions: [...versions.values()].map((v) => v.version),
      history: (await this.ctx.storage.get<RegistryEvent[]>('history')) ?? [],
      activeStudy: (await this.ctx.storage.get<RegistryState['activeStudy']>('activeStudy')) ?? null,
    };
  }

  async listVersions(): Promise<ModelVersion[]> {
    return [...(await this.ctx.storage.list<ModelVersion>({ prefix: registryKeys.versionPrefix })).values()];
  }

  /**
   * Claims the model's single running-study slot. Returns the already running study instead when
   * there is one, so overlapping crons and manual starts end up with one study per model.
   */
  async claimStudy(model: string, studyId: string): Promise<Result<{ id: string }>> {
    const active = await this.ctx.storage.get<RegistryState['activeStudy']>('activeStudy');
    if (active) return refuse('conflict', `study ${active.id} is already running for model "${model}"`);
    await this.ctx.storage.put({ model, activeStudy: { id: studyId, startedAt: new Date().toISOString() } });
    return ok({ id: studyId });
  }

  /** Frees the slot when the study ends (or failed to start). Only the holder can free it. */
  async releaseStudy(studyId: string): Promise<void> {
    const active = await this.ctx.storage.get<RegistryState['activeStudy']>('activeStudy');
    if (active?.id === studyId) {
      await this.ctx.storage.put('lastStudyEndedAt', new Date().toISOString());
      await this.ctx.storage.delete('activeStudy');
    }
  }

  async lastStudyEndedAt(): Promise<string | null> {
    return (await this.ctx.storage.get<string>('lastStudyEndedAt')) ?? null;
  }

  /**
   * Promotes `candidate` when the guard says so (shared/study/compare.ts), on `evidence` the caller
   * gathered by scoring the current champion on the candidate's test rows. The scoring is heavy (two
   * models over a test split) and runs in the caller; the decision runs here, atomically with the pointer
   * move, and only on evidence about the champion that is current here now: evidence about another
   * version (or about no champion when there is one) is refused, and the caller scores again.
   * Idempotent per study: a study asking twice gets its first answer back, so it can never promote twice.
   */
  async promote(
    candidate: VersionCandidate,
    settings: GuardSettings,
    evidence: ChampionEvidence | null,
  ): Promise<Result<PromotionOutcome>> {
    const doneKey = registryKeys.promotedStudy(candidate.studyId);
    const earlier = await this.ctx.storage.get<PromotionOutcome>(doneKey);
    if (earlier) return ok(earlier);
    const champion = await this.currentVersion();
    const current = champion?.version ?? null;
    if (current !== (evidence?.championVersion ?? null))
      return refuse(
        'conflict',
        `stale evidence: it is about ${evidence ? `v${evidence.championVersion}` : 'no champion'}; the champion is ${current === null ? 'none' : `v${current}`}`,
      );
    if (evidence && (evidence.dataset !== candidate.dataset || evidence.datasetVersion !== candidate.datasetVersion))
      throw new RangeError(
        `evidence on ${evidence.dataset}@${evidence.datasetVersion} for a candidate of ${candidate.dataset}@${candidate.datasetVersion}`,
      );
    const guard = Number.isFinite(candidate.metrics.validationAccuracy)
      ? decidePromotion(evidence, settings)
      : { promote: false, reason: 'challenger has no finite validation accuracy' };
    const outcome: PromotionOutcome = {
      promoted: guard.promote,
      refused: [],
      version: null,
      reason: guard.reason,
      candidate: {
        trial: candidate.trial,
        valAccuracy: candidate.metrics.validationAccuracy,
        testAccuracy: candidate.metrics.testAccuracy,
      },
      champion: champion ? { version: champion.version, valAccuracy: champion.metrics.validationAccuracy } : null,
      comparison: evidence,
      guard: settings,
      decidedAt: new Date().toISOString(),
    };
    if (!guard.promote) {
      await this.ctx.storage.put(doneKey, outcome);
      return ok(outcome);
    }
    await this.install(candidate, outcome, champion, doneKey);
    return ok(outcome);
  }

  /**
   * Promotes `candidate` over the guard's refusal, on an explicit admin request: the way forward when
   * the champion cannot be compared (its input features are gone). `refusal` is the guard's outcome;
   * its evidence is kept on the new version. Once per study, like promote.
   */
  async promoteExplicitly(candidate: VersionCandidate, refusal: PromotionOutcome): Promise<PromotionOutcome> {
    const doneKey = registryKeys.explicitStudy(candidate.studyId);
    const earlier = await this.ctx.storage.get<PromotionOutcome>(doneKey);
    if (earlier) return earlier;
    const champion = await this.currentVersion();
    const { advice: _followed, ...refused } = refusal;
    const outcome: PromotionOutcome = {
      ...refused,
      promoted: true,
      explicit: true,
      reason: `promoted explicitly by an admin over the guard's refusal (${refusal.reason})`,
      champion: champion ? { version: champion.version, valAccuracy: champion.metrics.validationAccuracy } : null,
      decidedAt: new Date().toISOString(),
    };
    await this.install(candidate, outcome, champion, doneKey);
    return outcome;
  }

  /** The new version, the pointer, the history and the idempotency record land in one batch. */
  private async install(
    candidate: VersionCandidate,
    outcome: PromotionOutcome,
    champion: ModelVersion | null,
    doneKey: string,
  ): Promise<void> {
    const now = outcome.decidedAt;
    const version = ((await this.ctx.storage.get<number>('maxVersion')) ?? 0) + 1;
    const explicit = outcome.explicit === true;
    const meta: ModelVersion = {
      ...candidate,
      version,
      createdAt: now,
      promotedBy: { reason: outcome.reason, comparison: outcome.comparison, explicit },
    };
    const history = (await this.ctx.storage.get<RegistryEvent[]>('history')) ?? [];
    history.push({
      at: now,
      action: 'promote',
      from: champion?.version ?? null,
      to: version,
      studyId: candidate.studyId,
      ...(explicit ? { explicit } : {}),
    });
    outcome.version = version;
    await this.ctx.storage.put({
      model: candidate.model,
      maxVersion: version,
      [registryKeys.version(version)]: meta,
      current: version,
      history,
      [doneKey]: outcome,
    });
    await this.mirror(meta);
  }

  /**
   * What predict needs in one call: the current version, and the challenger with its traffic setting. The
   * challenger's metadata comes along so a canary request needs no second round trip.
   */
  async serving(): Promise<ServingState> {
    const current = await this.currentVersion();
    const traffic = (await this.ctx.storage.get<TrafficSetting>('traffic')) ?? null;
    const challenger = traffic
      ? ((await this.ctx.storage.get<ModelVersion>(registryKeys.version(traffic.challenger))) ?? null)
      : null;
    const guard = (await this.ctx.storage.get<LiveGuard>('liveGuard')) ?? DEFAULT_LIVE_GUARD;
    return { current, traffic: traffic && challenger ? { ...traffic, meta: challenger } : null, guard };
  }

  /** Sets (or with null clears) the challenger traffic; the challenger must be an existing version other than the current one. */
  async setTraffic(
    setting: Omit<TrafficSetting, 'since'> | null,
    guard: LiveGuard | null,
  ): Promise<Result<{ traffic: TrafficSetting | null; guard: LiveGuard }>> {
    const nextGuard = guard ?? (await this.ctx.storage.get<LiveGuard>('liveGuard')) ?? DEFAULT_LIVE_GUARD;
    if (setting === null) {
      await this.ctx.storage.delete('traffic');
      await this.ctx.storage.put('liveGuard', nextGuard);
      return ok({ traffic: null, guard: nextGuard });
    }
    const current = (await this.ctx.storage.get<number>('current')) ?? null;
    if (current === null) return refuse('conflict', 'the model has no current version to share traffic with');
    if (!(await this.ctx.storage.get<ModelVersion>(registryKeys.version(setting.challenger))))
      return refuse('not_found', `version ${setting.challenger} does not exist`);
    if (setting.challenger === current)
      return refuse('validation_failed', `challenger: version ${setting.challenger} is already the current version`);
    const traffic: TrafficSetting = { ...setting, since: new Date().toISOString() };
    await this.ctx.storage.put<unknown>({ traffic, liveGuard: nextGuard });
    log('traffic_set', { model: (await this.ctx.storage.get<string>('model')) ?? '', ...traffic });
    return ok({ traffic, guard: nextGuard });
  }

  /**
   * A live decision on reviewed labels, through the same guard as every promotion (decidePromotion):
   * `promote` moves the pointer to the traffic's challenger, `rollback` back to the version the current
   * champion replaced. The evidence must be about the current champion (else conflict, as for promote).
   * A move happens at most once per (action, from, to); a refusal is kept as the last word, and the
   * caller may ask again when more labels have arrived.
   */
  async decideLive(
    action: LiveDecision['action'],
    target: number,
    evidence: ChampionEvidence,
    settings: GuardSettings,
  ): Promise<Result<LiveDecision>> {
    const current = (await this.ctx.storage.get<number>('current')) ?? null;
    if (current === null || evidence.championVersion !== current)
      return refuse(
        'conflict',
        `stale evidence: it is about v${evidence.championVersion}; the champion is ${current === null ? 'none' : `v${current}`}`,
      );
    const doneKey = registryKeys.liveMove(action, current, target);
    const earlier = await this.ctx.storage.get<LiveDecision>(doneKey);
    if (earlier) return ok(earlier);
    const history = (await this.ctx.storage.get<RegistryEvent[]>('history')) ?? [];
    const traffic = (await this.ctx.storage.get<TrafficSetting>('traffic')) ?? null;
    if (action === 'promote' && traffic?.challenger !== target)
      return refuse('conflict', `v${target} is not the challenger`);
    if (action === 'rollback') {
      const arrival = [...history].reverse().find((e) => e.to === current);
      if (arrival?.action !== 'promote' || arrival.from !== target)
        return refuse('conflict', `v${current} was not promoted over v${target}`);
    }
    const guard = decidePromotion(evidence, settings);
    const decision: LiveDecision = {
      action,
      from: current,
      to: target,
      moved: guard.promote,
      reason: guard.reason,
      comparison: evidence,
      decidedAt: new Date().toISOString(),
    };
    if (!guard.promote) {
      await this.ctx.storage.put(registryKeys.lastLive(action), decision);
      return ok(decision);
    }
    history.push({
      at: decision.decidedAt,
      action,
      from: current,
      to: target,
      studyId: null,
      live: true,
      reason: guard.reason,
    });
    const writes: Record<string, unknown> = {
      current: target,
      history,
      [doneKey]: decision,
      [registryKeys.lastLive(action)]: decision,
    };
    await this.ctx.storage.put(writes);
    // The challenger is now the champion (or the champion it was compared against went away): traffic ends.
    if (traffic && (action === 'promote' || traffic.challenger === target)) await this.ctx.storage.delete('traffic');
    log('live_decision', { action, from: current, to: target });
    const meta = await this.ctx.storage.get<ModelVersion>(registryKeys.version(target));
    if (meta) await this.mirror(meta);
    return ok(decision);
  }

  /** The last live decision of each kind (moved or not). */
  async liveDecisions(): Promise<LiveDecision[]> {
    const out: LiveDecision[] = [];
    for (const action of ['promote', 'rollback'] as const) {
      const d = await this.ctx.storage.get<LiveDecision>(registryKeys.lastLive(action));
      if (d) out.push(d);
    }
    return out;
  }

  /** Moves the pointer to an existing version. */
  async rollback(version: number): Promise<Result<{ version: number; previous: number | null }>> {
    const target = await this.ctx.storage.get<ModelVersion>(registryKeys.version(version));
    if (!target) return refuse('not_found', `version ${version} does not exist`);
    const previous = (await this.ctx.storage.get<number>('current')) ?? null;
    const history = (await this.ctx.storage.get<RegistryEvent[]>('history')) ?? [];
    history.push({ at: new Date().toISOString(), action: 'rollback', from: previous, to: version, studyId: null });
    await this.ctx.storage.put({ current: version, history });
    log('rollback', { model: target.model, from: previous, to: version });
    await this.mirror(target);
    return ok({ version, previous });
  }

  /**
   * The model's line in the listing (D1, read by GET /v1/models); the pointer itself lives here. A
   * failed write does not undo the committed change: the alarm writes the current line again.
   */
  private async mirror(meta: ModelVersion): Promise<void> {
    try {
      await new D1Listings(this.env.DB).upsert('model', meta.model, {
        createdAt: meta.createdAt,
        status: 'serving',
        dataset: meta.dataset,
        headline: {
          version: meta.version,
          validationAccuracy: meta.metrics.validationAccuracy,
          testAccuracy: meta.metrics.testAccuracy,
          studyId: meta.studyId,
          updatedAt: new Date().toISOString(),
        } satisfies ModelHeadline,
      });
    } catch (err) {
      logError('listing_write_failed', { model: meta.model, reason: err instanceof Error ? err.message : String(err) });
      await this.ctx.storage.setAlarm(Date.now() + 1000);
    }
  }

  override async alarm(): Promise<void> {
    const current = await this.currentVersion();
    if (current) await this.mirror(current);
  }
}
