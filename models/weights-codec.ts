/**
 * Binary form of NetworkWeights for storage: a small JSON header (shapes, float count, checksum) and
 * the float32 values. Decoding checks the length and the checksum, so a truncated or corrupted blob is
 * refused instead of served.
 */
import type { BatchNormWeights, DenseWeights, NetworkWeights } from './network';

const MAGIC = 0x31575445; // "ETW1" little-endian

interface Header {
  hidden: { inputs: number; units: number; bn: boolean }[];
  output: { inputs: number; units: number };
  floats: number;
  checksum: number;
}

/** FNV-1a over the bytes: cheap, and any flipped or missing byte changes it. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function arraysOf(w: NetworkWeights): Float32Array[] {
  const out: Float32Array[] = [];
  for (const b of w.hidden) {
    out.push(b.dense.kernel, b.dense.bias);
    if (b.bn) out.push(b.bn.gamma, b.bn.beta, b.bn.movingMean, b.bn.movingVariance);
  }
  out.push(w.output.kernel, w.output.bias);
  return out;
}

export function encodeWeights(w: NetworkWeights): Uint8Array {
  const arrays = arraysOf(w);
  const floats = arrays.reduce((n, a) => n + a.length, 0);
  const header: Header = {
    hidden: w.hidden.map((b) => ({ inputs: b.dense.inputs, units: b.dense.units, bn: b.bn !== null })),
    output: { inputs: w.output.inputs, units: w.output.units },
    floats,
    checksum: 0xffffffff,
  };
  // The header is sized with the widest checksum and padded with spaces (JSON.parse ignores them), so
  // the floats can be written straight into the output and checksummed there: a session's weights are
  // tens of MB, and a separate payload buffer would be one more copy of them.
  const headerLen = Math.ceil(new TextEncoder().encode(JSON.stringify(header)).length / 4) * 4;
  const out = new Uint8Array(8 + headerLen + floats * 4);
  const payload = new Float32Array(out.buffer, 8 + headerLen, floats);
  let at = 0;
  for (const a of arrays) {
    payload.set(a, at);
    at += a.length;
  }
  header.checksum = fnv1a(out.subarray(8 + headerLen));
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, headerLen, true);
  out.fill(0x20, 8, 8 + headerLen);
  out.set(new TextEncoder().encode(JSON.stringify(header)), 8);
  return out;
}

export class CorruptWeightsError extends Error {
  override name = 'CorruptWeightsError';
}

export function decodeWeights(buffer: ArrayBuffer | Uint8Array): NetworkWeights {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  if (bytes.length < 8) throw new CorruptWeightsError('weights blob shorter than its preamble');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new CorruptWeightsError('weights blob has the wrong magic number');
  const headerLen = view.getUint32(4, true);
  if (8 + headerLen > bytes.length) throw new CorruptWeightsError('weights blob truncated inside its header');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Header;
  } catch {
    throw new CorruptWeightsError('weights header is not valid JSON');
  }
  const payloadBytes = bytes.subarray(8 + headerLen);
  if (payloadBytes.length !== header.floats * 4)
    throw new CorruptWeightsError(`weights payload has ${payloadBytes.length} bytes, header says ${header.floats * 4}`);
  if (fnv1a(payloadBytes) !== header.checksum) throw new CorruptWeightsError('weights checksum mismatch');
  // Viewed in place when aligned (every array is copied out below anyway); copied only when not.
  const payload =
    payloadBytes.byteOffset % 4 === 0
      ? new Float32Array(payloadBytes.buffer, payloadBytes.byteOffset, header.floats)
      : new Float32Array(payloadBytes.slice().buffer);
  let at = 0;
  const take = (n: number) => {
    const a = payload.slice(at, at + n);
    at += n;
    return a;
  };
  const dense = (inputs: number, units: number): DenseWeights => ({
    inputs,
    units,
    kernel: take(inputs * units),
    bias: take(units),
  });
  const hidden = header.hidden.map((h) => {
    const d = dense(h.inputs, h.units);
    const bn: BatchNormWeights | null = h.bn
      ? { gamma: take(h.units), beta: take(h.units), movingMean: take(h.units), movingVariance: take(h.units) }
      : null;
    return { dense: d, bn };
  });
  const output = dense(header.output.inputs, header.output.units);
  if (at !== header.floats) throw new CorruptWeightsError('weights shapes do not add up to the payload');
  return { hidden, output };
}
