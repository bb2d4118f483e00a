import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app';
import { registryStub } from '../../functions/durable/stubs';
import { FLUSH_MS, LiveMonitor } from '../../functions/services/live';
import { ServingCache } from '../../functions/services/serving';
import { loadEmbeddedDigits } from '../../models/digits-embedded';
import type { Dataset } from '../../models/dataset';
import { callIn, ROOT_TOKEN } from './access-helpers';

/**
 * Challenger traffic in workerd: a sticky canary, a shadow that never changes a response, a live
 * promotion of the challenger on reviewed labels, and the automatic rollback of a bad new champion —
 * both through the registry's guard, once.
 */
const MODEL = 'lt-digits';
let digits: Dataset;
let clock = Date.now();
const app = createApp(new ServingCache(), new LiveMonitor(() => clock));
/** Predicted label per digits row, per version (pinned predictions). */
const labels = new Map<number, string[]>();

const row = (i: number) => Array.from(digits.x.subarray(i * 64, (i + 1) * 64));
const truth = (i: number) => digits.classNames[digits.y[i]!]!;

async function req(path: string, init: { method?: string; json?: unknown; address?: string; admin?: boolean } = {}) {
  return callIn('open', path, {
    method: init.method ?? 'GET',
    token: init.admin === false ? null : ROOT_TOKEN,
    json: init.json,
    headers: init.address ? { 'cf-connecting-ip': init.address } : {},
    app,
  });
}

async function ok(path: string, init: Parameters<typeof req>[1] = {}) {
  const res = await req(path, init);
  expect(res.status, `${init.method ?? 'GET'} ${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(300);
  return res.body;
}

async function study(json: Record<string, unknown>) {
  const { id } = await ok('/v1/studies', {
    method: 'POST',
    json: { dataset: 'digits', model: MODEL, parallelism: 2, ...json },
  });
  for (let i = 0; i < 900; i++) {
    const view = await ok(`/v1/studies/${id}`);
    if (view.status === 'complete') return view;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`study ${id} did not complete`);
}

async function pinnedLabels(version: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < digits.rows; i += 1000) {
    const idx = Array.from({ length: Math.min(1000, digits.rows - i) }, (_, k) => i + k);
    const body = await ok(`/v1/models/${MODEL}/versions/${version}/predict`, {
      method: 'POST',
      json: { instances: idx.map(row) },
    });
    out.push(...body.predictions.map((p: any) => p.label));
  }
  labels.set(version, out);
  return out;
}

const current = async () => (await registryStub(env.MODELS, MODEL).current())!.version;

/** Sends `rows` flagged (threshold 1) from one address, then labels their items with the truth, in order. */
async function flagAndLabel(rows: number[], afterEach: (n: number) => Promise<void>) {
  await ok(`/v1/models/${MODEL}/predict`, {
    method: 'POST',
    json: { instances: rows.map(row), threshold: 1 },
    address: '192.0.2.1',
  });
  const pending: any[] = [];
  for (let after: string | null = null; ;) {
    const page: any = await ok(`/v1/models/${MODEL}/reviews?limit=100${after ? `&after=${after}` : ''}`);
    pending.push(...page.reviews);
    if (!page.next) break;
    after = page.next;
  }
  const byInput = new Map(pending.map((p) => [JSON.stringify(p.input), p]));
  let n = 0;
  for (const r of rows) {
    const item = byInput.get(JSON.stringify(row(r)));
    expect(item, `row ${r} is queued`).toBeDefined();
    await ok(`/v1/reviews/${item.id}`, { method: 'POST', json: { label: truth(r) } });
    await afterEach(++n);
  }
}

const weak = { trials: 1, budget: { epochs: 1, maxSeconds: 30 }, space: { depth: 1, width: 16, learningRate: 0.0005 } };

beforeAll(async () => {
  digits = await loadEmbeddedDigits();
  // v1: a weak first champion; v2: a better one promoted over it; then an admin rolls back to v1.
  expect((await study({ ...weak, seed: 1 })).promotion.promoted).toBe(true);
  const second = await study({ trials: 2, seed: 2, significance: 1, budget: { epochs: 8, maxSeconds: 30 } });
  if (!second.promotion.promoted) await ok(`/v1/studies/${second.id}/promote`, { method: 'POST', json: {} });
  expect(await current()).toBe(2);
  await ok(`/v1/models/${MODEL}/rollback`, { method: 'POST', json: { version: 1 } });
  expect(await current()).toBe(1);
  await pinnedLabels(1);
  await pinnedLabels(2);
}, 300_000);

describe('challenger traffic', () => {
  it('a 20% canary answers 20% +/- 3 of 2,000 sticky callers with the challenger, each caller always the same version', async () => {
    const set = await ok(`/v1/models/${MODEL}/traffic`, {
      method: 'PUT',
      json: { challenger: 2, mode: 'canary', percent: 20 },
    });
    expect(set.traffic).toMatchObject({ challenger: 2, mode: 'canary', percent: 20 });
    expect(set.current).toBe(1);
    const addresses = Array.from({ length: 2000 }, (_, i) => `198.51.${i >> 8}.${i & 255}`);
    const versions = new Map<string, number>();
    for (let i = 0; i < addresses.length; i += 50) {
      const batch = addresses.slice(i, i + 50);
      const answers = await Promise.all(
        batch.map((address, k) =>
          req(`/v1/models/${MODEL}/predict`, {
            method: 'POST',
            json: { instances: [row((i + k) % digits.rows)] },
            address,
            admin: false,
          }),
        ),
      );
      answers.forEach((a, k) => {
        expect(a.status).toBe(200);
        versions.set(batch[k]!, a.body.version);
        // The answer is the named version's own prediction.
        expect(a.body.predictions[0].label).toBe(labels.get(a.body.version)![(i + k) % digits.rows]);
      });
    }
    const share = [...versions.values()].filter((v) => v === 2).length / addresses.length;
    expect(share).toBeGreaterThanOrEqual(0.17);
    expect(share).toBeLessThanOrEqual(0.23);
    for (const address of addresses.slice(0, 300)) {
      const again = await req(`/v1/models/${MODEL}/predict`, {
        method: 'POST',
        json: { instances: [row(7)] },
        address,
        admin: false,
      });
      expect(again.body.version).toBe(versions.get(address));
    }
  }, 300_000);

  it('shadow mode never changes a response and logs only the agreement', async () => {
    await ok(`/v1/models/${MODEL}/traffic`, { method: 'PUT', json: { challenger: 2, mode: 'shadow', percent: 0 } });
    const before = await ok(`/v1/models/${MODEL}/quality`);
    expect(before.agreement).toEqual([]);
    let compared = 0;
    let agreed = 0;
    for (let r = 0; r < 20; r++) {
      const idx = Array.from({ length: 10 }, (_, k) => 300 + r * 10 + k);
      const body = { instances: idx.map(row), topK: 3 };
      const shadowed = await ok(`/v1/models/${MODEL}/predict`, {
        method: 'POST',
        json: body,
        address: `203.0.113.${r}`,
      });
      const pinned = await ok(`/v1/models/${MODEL}/versions/1/predict`, { method: 'POST', json: body });
      expect(shadowed).toEqual(pinned);
      compared += idx.length;
      agreed += idx.filter((i) => labels.get(1)![i] === labels.get(2)![i]).length;
    }
    // End the shadow and let the isolate hand its counters over (its flush interval passes).
    await ok(`/v1/models/${MODEL}/traffic`, { method: 'PUT', json: { challenger: null } });
    clock += FLUSH_MS;
    await ok(`/v1/models/${MODEL}/predict`, { method: 'POST', json: { instances: [row(5)] } });
    const quality = await ok(`/v1/models/${MODEL}/quality`);
    expect(quality.agreement).toEqual([
      { champion: 1, challenger: 2, mode: 'shadow', compared, agreed, rate: agreed / compared },
    ]);
    expect(agreed).toBeLessThan(compared);
    const v1 = quality.versions.find((q: any) => q.version === 1);
    expect(v1.served).toBeGreaterThan(compared);
    expect(v1.confidence).toHaveLength(10);
  });

  it('promotes the challenger once enough reviewed labels show it better, through the guard, once', async () => {
    await ok(`/v1/models/${MODEL}/traffic`, {
      method: 'PUT',
      json: { challenger: 2, mode: 'canary', percent: 0, guard: { minLabels: 30, margin: 0.05, significance: 0.05 } },
    });
    const [l1, l2] = [labels.get(1)!, labels.get(2)!];
    const rows = Array.from({ length: 600 }, (_, i) => 600 + i);
    const onlyChallenger = rows.filter((i) => l1[i] !== truth(i) && l2[i] === truth(i)).slice(0, 20);
    const both = rows.filter((i) => l1[i] === truth(i) && l2[i] === truth(i)).slice(0, 10);
    expect(onlyChallenger).toHaveLength(20);
    await flagAndLabel([...onlyChallenger, ...both], async (n) => {
      expect(await current(), `after ${n} labels`).toBe(n < 30 ? 1 : 2);
    });
    const state = await registryStub(env.MODELS, MODEL).state();
    const live = state.history.filter((e) => e.live);
    expect(live).toEqual([expect.objectContaining({ action: 'promote', from: 1, to: 2, studyId: null, live: true })]);
    const traffic = await ok(`/v1/models/${MODEL}/traffic`);
    expect(traffic.traffic).toBeNull();
    const decision = traffic.decisions.find((d: any) => d.action === 'promote');
    expect(decision).toMatchObject({ from: 1, to: 2, moved: true });
    expect(decision.comparison).toMatchObject({
      comparable: true,
      split: 'reviewed',
      rows: 30,
      championVersion: 1,
      discordant: { championOnly: 0, challengerOnly: 20 },
    });
  });

  it('rolls a bad new champion back after N reviewed labels below the previous one, once', async () => {
    // A weak study refused by the guard, promoted explicitly by an admin: the bad new champion v3.
    const third = await study({ ...weak, seed: 3 });
    if (!third.promotion.promoted) await ok(`/v1/studies/${third.id}/promote`, { method: 'POST', json: {} });
    expect(await current()).toBe(3);
    const l3 = await pinnedLabels(3);
    const l2 = labels.get(2)!;
    const rows = Array.from({ length: 500 }, (_, i) => 1250 + i);
    const onlyPrevious = rows.filter((i) => l3[i] !== truth(i) && l2[i] === truth(i)).slice(0, 20);
    const both = rows.filter((i) => l3[i] === truth(i) && l2[i] === truth(i)).slice(0, 15);
    expect(onlyPrevious).toHaveLength(20);
    await flagAndLabel([...onlyPrevious, ...both], async (n) => {
      expect(await current(), `after ${n} labels`).toBe(n < 30 ? 3 : 2);
    });
    const state = await registryStub(env.MODELS, MODEL).state();
    const rollbacks = state.history.filter((e) => e.live && e.action === 'rollback');
    expect(rollbacks).toEqual([expect.objectContaining({ action: 'rollback', from: 3, to: 2, live: true })]);
    expect(rollbacks[0]!.reason).toContain('reviewed rows');
  });

  it("refuses a challenger whose reviewed accuracy is worse than the champion's: nothing moves, the refusal is kept", async () => {
    // The champion is v2 again; the bad v3 comes back as a challenger with no share of the traffic.
    expect(await current()).toBe(2);
    const set = await ok(`/v1/models/${MODEL}/traffic`, {
      method: 'PUT',
      json: { challenger: 3, mode: 'canary', percent: 0, guard: { minLabels: 30, margin: 0.05, significance: 0.05 } },
    });
    expect(set.traffic).toMatchObject({ challenger: 3 });
    const [l2, l3] = [labels.get(2)!, labels.get(3)!];
    // Rows no earlier test flagged or labelled (they flagged 600..1749).
    const rows = Array.from({ length: 600 }, (_, i) => i);
    const onlyChampion = rows.filter((i) => l2[i] === truth(i) && l3[i] !== truth(i)).slice(0, 20);
    const both = rows.filter((i) => l2[i] === truth(i) && l3[i] === truth(i)).slice(0, 15);
    expect(onlyChampion).toHaveLength(20);
    const historyBefore = (await registryStub(env.MODELS, MODEL).state()).history;
    await flagAndLabel([...onlyChampion, ...both], async (n) => {
      expect(await current(), `after ${n} labels`).toBe(2);
    });
    const state = await registryStub(env.MODELS, MODEL).state();
    expect(state.history).toEqual(historyBefore);
    const traffic = await ok(`/v1/models/${MODEL}/traffic`);
    // The challenger keeps its (empty) share: a refusal ends nothing, more labels may be asked about later.
    expect(traffic.current).toBe(2);
    expect(traffic.traffic).toMatchObject({ challenger: 3, mode: 'canary', percent: 0 });
    const decision = traffic.decisions.find((d: any) => d.action === 'promote');
    expect(decision).toMatchObject({ from: 2, to: 3, moved: false });
    expect(decision.reason).toContain('not better');
    expect(decision.comparison).toMatchObject({
      comparable: true,
      split: 'reviewed',
      rows: 35,
      championVersion: 2,
      discordant: { championOnly: 20, challengerOnly: 0 },
    });
    expect(decision.comparison.challengerAccuracy).toBeLessThan(decision.comparison.championAccuracy);
  });
});
