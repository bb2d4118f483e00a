/**
 * The unit-cube view of a distribution (KerasTuner style): `fromUnit` maps u in [0, 1) to a value so that
 * u ~ U[0, 1) gives the distribution's prior, and `toUnit` maps a value back to the centre of the u-interval
 * that produces it. Both are monotone non-decreasing for numeric distributions, so a window in unit space is a
 * value range; random, grid and local search all go through this one mapping.
 */
import type { Distribution, FloatDistribution, IntDistribution } from './distribution-schema';
import { jsonEqual, type JsonValue } from './json';

/** Largest double below 1: the top of the half-open unit interval. */
export const ONE_BELOW = 1 - 2 ** -53;

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const clampUnit = (u: number): number => clamp(u, 0, ONE_BELOW);
/** Removes float noise from arithmetic on decimal steps and grid levels (0.1 * 3 = 0.30000000000000004). */
const tidy = (x: number): number => Number(x.toPrecision(12));

/**
 * A float's continuous part lives on a scale t where it is uniform: t = x (linear), ln x (log) or -ln(1 - x)
 * (oneMinus; the sign keeps t increasing with the parameter).
 */
interface Scale {
  tLow: number;
  tHigh: number;
  toValue(t: number): number;
  toT(x: number): number;
  valueLow: number;
  valueHigh: number;
}

function floatScale(d: FloatDistribution): Scale {
  if (d.oneMinus) {
    return {
      tLow: -Math.log(d.high),
      tHigh: -Math.log(d.low),
      toValue: (t) => 1 - Math.exp(-t),
      toT: (x) => -Math.log(1 - x),
      valueLow: 1 - d.high,
      valueHigh: 1 - d.low,
    };
  }
  if (d.log)
    return {
      tLow: Math.log(d.low),
      tHigh: Math.log(d.high),
      toValue: Math.exp,
      toT: Math.log,
      valueLow: d.low,
      valueHigh: d.high,
    };
  return { tLow: d.low, tHigh: d.high, toValue: (t) => t, toT: (x) => x, valueLow: d.low, valueHigh: d.high };
}

/** Number of values on a stepped float (the last one may fall short of high). */
function floatSteps(d: FloatDistribution & { step: number }): number {
  return Math.floor((d.high - d.low) / d.step + 1e-9) + 1;
}

function intCount(d: IntDistribution): number {
  return Math.floor((d.high - d.low) / (d.step ?? 1)) + 1;
}

/** Log-int draws use [low - 0.5, high + 0.5] so that after rounding both ends are as likely as their neighbours. */
function intLogBounds(d: IntDistribution): [number, number] {
  return [Math.log(d.low - 0.5), Math.log(d.high + 0.5)];
}

/** The continuous (non-zero) part of a float: u in [0, 1) to a value. */
function floatInner(d: FloatDistribution, u: number): number {
  if (d.step !== undefined) {
    const m = floatSteps(d as FloatDistribution & { step: number });
    return tidy(d.low + d.step * Math.min(m - 1, Math.floor(u * m)));
  }
  const s = floatScale(d);
  return clamp(s.toValue(s.tLow + u * (s.tHigh - s.tLow)), s.valueLow, s.valueHigh);
}

function floatInnerUnit(d: FloatDistribution, x: number): number {
  if (d.step !== undefined) {
    const m = floatSteps(d as FloatDistribution & { step: number });
    const j = clamp(Math.round((x - d.low) / d.step), 0, m - 1);
    return (j + 0.5) / m;
  }
  const s = floatScale(d);
  return clampUnit((s.toT(x) - s.tLow) / (s.tHigh - s.tLow));
}

export function fromUnit(d: Distribution, u: number): JsonValue {
  const v = clampUnit(u);
  switch (d.type) {
    case 'const':
      return d.value;
    case 'categorical':
      return d.choices[Math.min(d.choices.length - 1, Math.floor(v * d.choices.length))]!;
    case 'int': {
      if (d.log) {
        const [a, b] = intLogBounds(d);
        return clamp(Math.round(Math.exp(a + v * (b - a))), d.low, d.high);
      }
      const m = intCount(d);
      return d.low + (d.step ?? 1) * Math.min(m - 1, Math.floor(v * m));
    }
    case 'float': {
      const p = d.zeroProbability;
      if (p === undefined) return floatInner(d, v);
      return v < p ? 0 : floatInner(d, (v - p) / (1 - p));
    }
  }
}

/** Centre of the unit interval that maps to `value`; throws a RangeError if the distribution cannot produce it. */
export function toUnit(d: Distribution, value: JsonValue): number {
  if (!contains(d, value))
    throw new RangeError(`${JSON.stringify(value)} is not a possible value of this ${d.type} distribution`);
  switch (d.type) {
    case 'const':
      return 0.5;
    case 'categorical':
      return (d.choices.findIndex((c) => c === value) + 0.5) / d.choices.length;
    case 'int': {
      const x = value as number;
      if (d.log) {
        const [a, b] = intLogBounds(d);
        const lo = Math.max(a, Math.log(x - 0.5));
        const hi = Math.min(b, Math.log(x + 0.5));
        return clampUnit(((lo + hi) / 2 - a) / (b - a));
      }
      return ((x - d.low) / (d.step ?? 1) + 0.5) / intCount(d);
    }
    case 'float': {
      const x = value as number;
      const p = d.zeroProbability;
      if (p === undefined) return floatInnerUnit(d, x);
      return x === 0 ? p / 2 : p + (1 - p) * floatInnerUnit(d, x);
    }
  }
}

/** Whether the distribution can produce `value` (floats with a relative tolerance for decimal noise). */
export function contains(d: Distribution, value: unknown): boolean {
  switch (d.type) {
    case 'const':
      return jsonEqual(d.value, value as JsonValue);
    case 'categorical':
      return d.choices.some((c) => c === value);
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < d.low || value > d.high) return false;
      return (value - d.low) % (d.step ?? 1) === 0;
    }
    case 'float': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (value === 0 && d.zeroProbability !== undefined) return true;
      const { valueLow, valueHigh } = floatScale(d);
      const tol = 1e-9 * Math.max(Math.abs(valueLow), Math.abs(valueHigh), 1e-300);
      if (value < valueLow - tol || value > valueHigh + tol) return false;
      if (d.step === undefined) return true;
      const j = (value - d.low) / d.step;
      return (
        Math.abs(j - Math.round(j)) < 1e-6 && Math.round(j) < floatSteps(d as FloatDistribution & { step: number })
      );
    }
  }
}

/**
 * `levels` values for grid search: numeric ranges get evenly spaced points on their own scale, both ends
 * included (a zero-able float adds 0 in front); ints are rounded and de-duplicated, so a narrow int range
 * gives fewer levels. Categoricals give all choices, consts their value.
 */
export function gridValues(d: Distribution, levels: number): JsonValue[] {
  if (!Number.isInteger(levels) || levels < 1)
    throw new RangeError(`grid levels must be a positive integer (got ${levels})`);
  const fractions = levels === 1 ? [0.5] : Array.from({ length: levels }, (_, j) => j / (levels - 1));
  switch (d.type) {
    case 'const':
      return [d.value];
    case 'categorical':
      return [...d.choices];
    case 'int': {
      const last = intCount(d) - 1;
      const values = fractions.map((f) =>
        d.log
          ? Math.round(Math.exp(Math.log(d.low) + f * (Math.log(d.high) - Math.log(d.low))))
          : d.low + (d.step ?? 1) * Math.round(f * last),
      );
      return [...new Set(values.map((v) => clamp(v, d.low, d.high)))];
    }
    case 'float': {
      const s = floatScale(d);
      let values = fractions.map((f) =>
        tidy(clamp(s.toValue(s.tLow + f * (s.tHigh - s.tLow)), s.valueLow, s.valueHigh)),
      );
      if (d.step !== undefined) {
        const m = floatSteps(d as FloatDistribution & { step: number });
        values = values.map((v) => tidy(d.low + d.step! * clamp(Math.round((v - d.low) / d.step!), 0, m - 1)));
      }
      const distinct = [...new Set(values)];
      return d.zeroProbability !== undefined ? [0, ...distinct] : distinct;
    }
  }
}

/** Smallest and largest value the distribution can produce (numeric distributions only). */
export function valueBounds(d: FloatDistribution | IntDistribution): [number, number] {
  if (d.type === 'int') return [fromUnit(d, 0) as number, fromUnit(d, ONE_BELOW) as number];
  const bottom = d.zeroProbability !== undefined ? 0 : undefined;
  if (d.step !== undefined)
    return [bottom ?? d.low, tidy(d.low + d.step * (floatSteps(d as FloatDistribution & { step: number }) - 1))];
  const s = floatScale(d);
  return [bottom ?? s.valueLow, s.valueHigh];
}

/**
 * Values that exercise a distribution's extremes and interior, used to check it against the model's own
 * validation: both ends, zero when zero-able, every choice, and an interior point that is not a round number
 * (so a float range on an integer key is caught).
 */
export function probeValues(d: Distribution): JsonValue[] {
  if (d.type === 'const') return [d.value];
  if (d.type === 'categorical') return [...d.choices];
  const values: JsonValue[] = [...valueBounds(d), fromUnit(d, 0.5371), fromUnit(d, 0.9371)];
  if (d.type === 'float' && d.zeroProbability !== undefined) values.push(floatInner(d, 0));
  return [...new Set(values)];
}

/**
 * A numeric distribution's own scale as the unit interval (without the zero of a zero-able float): the
 * coordinate in which its prior is uniform (linear, log or 1 - v). Model-based samplers fit densities here.
 * Discrete distributions (ints, stepped floats) own a bucket [lo, hi) of the axis per value; a continuous
 * value is the point lo = hi.
 */
export interface NumericAxis {
  discrete: boolean;
  bucket(value: number): [number, number];
  valueAt(u: number): number;
}

export function numericAxis(d: FloatDistribution | IntDistribution): NumericAxis {
  if (d.type === 'int') {
    if (d.log) {
      const [a, b] = intLogBounds(d);
      return {
        discrete: true,
        bucket: (x) => [clamp((Math.log(x - 0.5) - a) / (b - a), 0, 1), clamp((Math.log(x + 0.5) - a) / (b - a), 0, 1)],
        valueAt: (u) => fromUnit(d, u) as number,
      };
    }
    const m = intCount(d);
    return {
      discrete: true,
      bucket: (x) => {
        const j = clamp(Math.round((x - d.low) / (d.step ?? 1)), 0, m - 1);
        return [j / m, (j + 1) / m];
      },
      valueAt: (u) => fromUnit(d, u) as number,
    };
  }
  if (d.step !== undefined) {
    const m = floatSteps(d as FloatDistribution & { step: number });
    return {
      discrete: true,
      bucket: (x) => {
        const j = clamp(Math.round((x - d.low) / d.step!), 0, m - 1);
        return [j / m, (j + 1) / m];
      },
      valueAt: (u) => floatInner(d, clampUnit(u)),
    };
  }
  return {
    discrete: false,
    bucket: (x) => {
      const u = floatInnerUnit(d, x);
      return [u, u];
    },
    valueAt: (u) => floatInner(d, clampUnit(u)),
  };
}
