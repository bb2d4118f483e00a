import { describe, expect, it } from 'vitest';

// Whole simulated studies run here; the machine is shared, so time limits are generous (no timing is asserted).
const SLOW = 60_000;
import {
  type Assignment,
  assignmentKey,
  contains,
  createSampler,
  DEFAULT_SPACE,
  parseSpace,
  rankObservations,
  type SearchSpace,
  type TpeObservation,
  TpeSampler,
  type TpeSpec,
  toConfig,
} from '../../models/search';
import { normalCdf, normalQuantile, truncatedIntervalMass, truncatedSample } from '../../models/search/normal';
import { Rng } from '../../models/random';

/** A synthetic objective with a known optimum: lr 10^-2.5, width 2^7, adam, no dropout. */
const SPACE = parseSpace({
  optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
  momentum: { type: 'float', low: 0.001, high: 0.5, log: true, oneMinus: true, when: { optimizer: ['momentum'] } },
  learningRate: { type: 'float', low: 1e-5, high: 1, log: true },
  width: { type: 'int', low: 8, high: 512, log: true },
  dropout: { type: 'float', low: 0, high: 0.5 },
  l2: { type: 'float', low: 1e-6, high: 1e-2, log: true, zeroProbability: 0.5 },
});

function objective(p: Assignment): number {
  const lr = Math.log10(p.learningRate as number) + 2.5;
  const w = Math.log2(p.width as number) - 7;
  const opt = p.optimizer === 'adam' ? 0 : 0.6;
  const d = (p.dropout as number) * 2;
  return Math.exp(-(lr * lr + 0.3 * w * w + opt + d * d) / 2);
}

interface Run {
  proposals: Assignment[];
  best: number[];
}

/** A sequential study (or one with `parallel` workers finishing in dispatch order) on the synthetic objective. */
function runTpe(spec: TpeSpec, trials: number, parallel = 1, space: SearchSpace = SPACE, f = objective): Run {
  const sampler = new TpeSampler(space, spec);
  const finished: TpeObservation[] = [];
  const running: Assignment[] = [];
  const proposals: Assignment[] = [];
  const best: number[] = [];
  let top = -Infinity;
  for (let i = 0; i < trials; i++) {
    if (running.length === parallel) {
      const done = running.shift()!;
      const v = f(done);
      finished.push({ params: done, state: 'complete', value: v, epochs: 10 });
    }
    const s = sampler.propose(i, { finished, running });
    proposals.push(s.params);
    running.push(s.params);
  }
  for (const p of proposals) {
    top = Math.max(top, f(p));
    best.push(top);
  }
  return { proposals, best };
}

function runRandom(seed: number, trials: number, f = objective): Run {
  const s = createSampler(SPACE, { kind: 'random', seed });
  const proposals = Array.from({ length: trials }, (_, i) => s.sample(i).params);
  let top = -Infinity;
  return { proposals, best: proposals.map((p) => (top = Math.max(top, f(p)))) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('normal distribution helpers', { timeout: SLOW }, () => {
  it('cdf and quantile invert each other', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 6);
    for (const p of [1e-10, 1e-4, 0.02, 0.3, 0.5, 0.8, 0.99, 1 - 1e-6])
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 7);
  });

  it('truncated draws stay inside the interval and follow its mass', () => {
    const k = { mu: 0.9, sigma: 0.2, low: 0, high: 1 };
    const rng = new Rng(3);
    let below = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 20000; i++) {
      const x = truncatedSample(k, rng.next());
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
      if (x < 0.8) below++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(below / 20000).toBeCloseTo(truncatedIntervalMass(k, 0, 0.8), 2);
  });
});

describe('TPE sampler', { timeout: SLOW }, () => {
  it('is deterministic: the same seed and the same completion order give the same proposals', () => {
    const a = runTpe({ kind: 'tpe', seed: 11 }, 40, 3);
    const b = runTpe({ kind: 'tpe', seed: 11 }, 40, 3);
    expect(b.proposals.map(assignmentKey)).toEqual(a.proposals.map(assignmentKey));
    // A spec that went through JSON (as the coordinator stores it) proposes the same.
    const c = runTpe(JSON.parse(JSON.stringify({ kind: 'tpe', seed: 11 })) as TpeSpec, 40, 3);
    expect(c.proposals).toEqual(a.proposals);
    const other = runTpe({ kind: 'tpe', seed: 12 }, 40, 3);
    expect(other.proposals.map(assignmentKey)).not.toEqual(a.proposals.map(assignmentKey));
  });

  it('a proposal is a function of the results it is given (and, past 25 of them, of their order)', () => {
    const sampler = new TpeSampler(SPACE, { kind: 'tpe', seed: 5, startupTrials: 4 });
    const random = runRandom(5, 8).proposals;
    const obs = random.map((p) => ({ params: p, state: 'complete' as const, value: objective(p), epochs: 10 }));
    const forward = sampler.propose(8, { finished: obs, running: [] });
    expect(
      new TpeSampler(SPACE, { kind: 'tpe', seed: 5, startupTrials: 4 }).propose(8, { finished: obs, running: [] }),
    ).toEqual(forward);
    // Recency weights only differ from 1 beyond 25 observations, so with 8 the order changes nothing
    // but the tie-breaks; a different set of results changes the proposal.
    const fewer = sampler.propose(8, { finished: obs.slice(0, 6), running: [] });
    expect(fewer.params).not.toEqual(forward.params);
    expect(forward.basis).toEqual({ finished: 8, running: 0, startup: false, good: 1, bad: 7 });
    // Past 25 results older ones weigh less, so the arrival order matters.
    const many = runRandom(5, 40).proposals.map((p) => ({
      params: p,
      state: 'complete' as const,
      value: objective(p),
      epochs: 10,
    }));
    const inOrder = sampler.propose(40, { finished: many, running: [] });
    expect(sampler.propose(40, { finished: many, running: [] })).toEqual(inOrder);
    expect(sampler.propose(40, { finished: [...many].reverse(), running: [] }).params).not.toEqual(inOrder.params);
  });

  it('ranks equal validation accuracies by validation loss (accuracy moves in steps of one row), and the good set follows', () => {
    const [a, b, c] = runRandom(3, 3).proposals as [Assignment, Assignment, Assignment];
    // 269 validation rows: accuracy moves in steps of 0.37 pt, so equal accuracies are common.
    const finished: TpeObservation[] = [
      { params: a, state: 'complete', value: 0.9777, loss: 0.12, epochs: 6 },
      { params: b, state: 'complete', value: 0.9777, loss: 0.07, epochs: 6 },
      { params: c, state: 'complete', value: 0.9703, loss: 0.05, epochs: 6 },
    ];
    expect(rankObservations(finished)).toEqual([1, 0, 2]);
    expect(rankObservations(finished, 'loss')).toEqual([2, 1, 0]);
    // A missing loss (an older record) ranks after a known one at the same accuracy; arrival order breaks the rest.
    expect(rankObservations([{ ...finished[0]!, loss: null }, finished[0]!, { ...finished[0]! }])).toEqual([1, 2, 0]);
    // With one good trial, the proposal is fitted on the lower-loss one of the tie: swapping the losses changes it.
    const spec: TpeSpec = { kind: 'tpe', seed: 4, startupTrials: 3 };
    const swapped = finished.map((o, i) => (i < 2 ? { ...o, loss: i === 0 ? 0.07 : 0.12 } : o));
    const p1 = new TpeSampler(SPACE, spec).propose(3, { finished, running: [] });
    const p2 = new TpeSampler(SPACE, spec).propose(3, { finished: swapped, running: [] });
    expect(p1.basis).toMatchObject({ good: 1, bad: 2 });
    expect(p2.params).not.toEqual(p1.params);
  });

  it('records what each proposal was based on, and starts with random search’s trials', () => {
    const sampler = new TpeSampler(SPACE, { kind: 'tpe', seed: 9 });
    const random = runRandom(9, 10).proposals;
    const s0 = sampler.propose(0, { finished: [], running: [] });
    expect(s0.params).toEqual(random[0]);
    expect(s0.basis).toMatchObject({ finished: 0, running: 0, startup: true });
    const obs = random
      .slice(0, 9)
      .map((p) => ({ params: p, state: 'complete' as const, value: objective(p), epochs: 10 }));
    const s9 = sampler.propose(9, { finished: obs, running: [random[9]!] });
    expect(s9.basis).toMatchObject({ finished: 9, running: 1, startup: true });
    const s10 = sampler.propose(10, { finished: [...obs, { ...obs[0]!, params: random[9]! }], running: [] });
    expect(s10.basis).toEqual({ finished: 10, running: 0, startup: false, good: 1, bad: 9 });
    expect(s10.source).toBe('tpe');
  });

  it('finds the optimum of a synthetic objective faster than random search (median over 9 seeds)', () => {
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const at = 40;
    const tpe = seeds.map((seed) => runTpe({ kind: 'tpe', seed }, at).best[at - 1]!);
    const rnd = seeds.map((seed) => runRandom(seed, at).best[at - 1]!);
    expect(median(tpe)).toBeGreaterThan(median(rnd));
    // Trials to reach random search's best after 40 trials: TPE needs clearly fewer.
    const reach = seeds.map((seed, i) => {
      const t = runTpe({ kind: 'tpe', seed }, at).best.findIndex((b) => b >= rnd[i]!);
      return t < 0 ? Infinity : t + 1;
    });
    expect(median(reach)).toBeLessThanOrEqual(0.6 * at);
    // And it concentrates: over the last 20 of 60 trials most proposals are near the optimum's learning rate.
    const late = runTpe({ kind: 'tpe', seed: 1 }, 60).proposals.slice(40);
    const near = late.filter((p) => Math.abs(Math.log10(p.learningRate as number) + 2.5) < 1).length;
    const nearRandom = runRandom(1, 60)
      .proposals.slice(40)
      .filter((p) => Math.abs(Math.log10(p.learningRate as number) + 2.5) < 1).length;
    expect(near).toBeGreaterThan(nearRandom + 5);
  });

  it('with parallel workers (constant liar) it still beats random, and never proposes a running configuration', () => {
    const seeds = [1, 2, 3, 4, 5, 6, 7];
    const tpe = seeds.map((seed) => runTpe({ kind: 'tpe', seed }, 40, 4).best[39]!);
    const rnd = seeds.map((seed) => runRandom(seed, 40).best[39]!);
    expect(median(tpe)).toBeGreaterThan(median(rnd));
    const sampler = new TpeSampler(SPACE, { kind: 'tpe', seed: 3, startupTrials: 5 });
    const hist = runRandom(3, 12).proposals.map((p) => ({
      params: p,
      state: 'complete' as const,
      value: objective(p),
      epochs: 10,
    }));
    const alone = sampler.propose(12, { finished: hist, running: [] });
    const liar = sampler.propose(13, { finished: hist, running: [alone.params] });
    expect(liar.basis.running).toBe(1);
    expect(assignmentKey(liar.params)).not.toBe(assignmentKey(alone.params));
  });

  it('conditional parameters: present exactly when active, fitted only on trials that had them', () => {
    // Best with the momentum optimizer and momentum near 0.99; momentum only exists for that optimizer.
    const f = (p: Assignment) => {
      const m = p.optimizer === 'momentum' ? Math.log10(1 - (p.momentum as number)) + 2 : 3;
      return Math.exp(-(m * m));
    };
    const { proposals } = runTpe({ kind: 'tpe', seed: 4 }, 60, 2, SPACE, f);
    for (const p of proposals) {
      expect('momentum' in p).toBe(p.optimizer === 'momentum');
      for (const [k, v] of Object.entries(p)) expect(contains(SPACE[k]!, v)).toBe(true);
    }
    const late = proposals.slice(30);
    expect(late.filter((p) => p.optimizer === 'momentum').length).toBeGreaterThan(late.length / 2);
    const m = late.filter((p) => p.optimizer === 'momentum').map((p) => p.momentum as number);
    expect(median(m)).toBeGreaterThan(0.95);
  });

  it('pruned and diverged trials count as evidence; every proposal on the default space is a valid model', () => {
    const sampler = new TpeSampler(DEFAULT_SPACE, { kind: 'tpe', seed: 21, startupTrials: 3 });
    const finished: TpeObservation[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const s = sampler.propose(i, { finished, running: [] });
      expect(s.duplicate).toBe(false);
      expect(seen.has(s.key)).toBe(false);
      seen.add(s.key);
      expect(() => toConfig(s.params, 5)).not.toThrow();
      const state = i % 5 === 0 ? 'diverged' : i % 3 === 0 ? 'pruned' : 'complete';
      finished.push({ params: s.params, state, value: state === 'diverged' ? null : (i % 7) / 7, epochs: 3 });
    }
  });

  it('warm-start configurations come first, as given', () => {
    const enqueued = [{ optimizer: 'adam', learningRate: 0.001, width: 64, dropout: 0, l2: 0 }];
    const s = new TpeSampler(SPACE, { kind: 'tpe', seed: 1, enqueued }).propose(0, { finished: [], running: [] });
    expect(s).toMatchObject({ source: 'enqueued', params: enqueued[0] });
  });
});
