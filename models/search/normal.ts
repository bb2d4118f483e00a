/**
 * The standard normal's CDF and its inverse, and a normal truncated to an interval: what the TPE sampler's
 * Parzen estimators are made of. Written for the central and moderately far tails (|z| < ~37) that kernels
 * clipped to the unit interval produce.
 */

const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * erfc(x) for x >= 0 with relative error below 1.2e-7 (the Chebyshev fit of Numerical Recipes' erfcc): enough
 * for densities that are only ever compared with each other.
 */
function erfcPositive(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -x * x -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(poly);
}

/** P(Z <= z) for a standard normal Z. */
export function normalCdf(z: number): number {
  const e = erfcPositive(Math.abs(z) / SQRT2);
  return z >= 0 ? 1 - 0.5 * e : 0.5 * e;
}

/** log of the standard normal density. */
export function normalLogPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/**
 * z with P(Z <= z) = p, for p in (0, 1): Acklam's rational approximation (relative error ~1e-9), then one
 * Halley step against normalCdf so that normalCdf(normalQuantile(p)) returns p to that function's precision.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new RangeError(`normalQuantile needs p in [0, 1] (got ${p})`);
  }
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  let z: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    z =
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    z =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    z =
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = normalCdf(z) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp(0.5 * z * z);
  return z - u / (1 + 0.5 * z * u);
}

/** A normal N(mu, sigma^2) restricted to [low, high]. */
export interface TruncatedNormal {
  mu: number;
  sigma: number;
  low: number;
  high: number;
}

function massBelow(k: TruncatedNormal, x: number): number {
  return normalCdf((x - k.mu) / k.sigma);
}

/** The mass of [low, high] under the untruncated normal: the truncation's normaliser. */
export function truncatedMass(k: TruncatedNormal): number {
  return Math.max(massBelow(k, k.high) - massBelow(k, k.low), 1e-300);
}

/** log density at x (inside [low, high]). */
export function truncatedLogPdf(k: TruncatedNormal, x: number): number {
  return normalLogPdf((x - k.mu) / k.sigma) - Math.log(k.sigma) - Math.log(truncatedMass(k));
}

/** Probability of [a, b] (a subinterval of [low, high]). */
export function truncatedIntervalMass(k: TruncatedNormal, a: number, b: number): number {
  return Math.max(massBelow(k, b) - massBelow(k, a), 0) / truncatedMass(k);
}

/** A draw by inversion from one uniform u in [0, 1). */
export function truncatedSample(k: TruncatedNormal, u: number): number {
  const lo = massBelow(k, k.low);
  const hi = massBelow(k, k.high);
  const p = lo + u * (hi - lo);
  if (!(p > 0 && p < 1)) return Math.min(k.high, Math.max(k.low, k.mu));
  return Math.min(k.high, Math.max(k.low, k.mu + k.sigma * normalQuantile(p)));
}
