/**
 * JSON values and a canonical text form of them. Studies keep spaces, assignments and sampler specs in KV,
 * so everything in the search package is plain JSON; the canonical form is what duplicate detection compares.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Significant digits kept when comparing numbers. Rounding absorbs float noise (grid arithmetic, 1 - v), but
 * it must stay fine: near 1 the digits go to the leading 9s, so six digits would merge beta2 = 0.99991 and
 * 0.999914, and rejecting such "duplicates" visibly distorts a 1 - v scale. Ten digits still resolve 1 - v at
 * 1e-5 to about 1e-5 relative.
 */
export const CANONICAL_DIGITS = 10;

function canonicalNumber(x: number, digits: number): number {
  if (Number.isInteger(x)) return x === 0 ? 0 : x; // -0 and 0 are the same configuration
  return Number(x.toPrecision(digits));
}

/** JSON with object keys sorted at every level and non-integer numbers rounded, so equal configurations give equal text. */
export function canonicalJson(value: JsonValue, digits = CANONICAL_DIGITS): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a JSON number: ${value}`);
    return JSON.stringify(canonicalNumber(value, digits));
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, digits)).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!, digits)}`).join(',')}}`;
}

/** Structural equality of JSON values (exact, no rounding). */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  return canonicalJson(a, 17) === canonicalJson(b, 17);
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;

/** 64-bit FNV-1a of the UTF-8 bytes, as 16 hex digits: a short, stable id for storage keys and logs. */
export function fnv1a64(text: string): string {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * FNV_PRIME) & MASK64;
  }
  return h.toString(16).padStart(16, '0');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
