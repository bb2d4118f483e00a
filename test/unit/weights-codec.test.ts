import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../models/config';
import { initialWeights } from '../../models/network';
import { CorruptWeightsError, decodeWeights, encodeWeights } from '../../models/weights-codec';

describe('weights codec', () => {
  for (const partial of [{ batchNorm: true }, { batchNorm: false }, { depth: 0 }, { depth: 4, width: 7 }]) {
    it(`round-trips exactly: ${JSON.stringify(partial)}`, () => {
      const w = initialWeights(resolveConfig(partial), 13, 5, 3);
      if (w.hidden[0]?.bn) w.hidden[0].bn.movingMean[0] = 0.25;
      expect(decodeWeights(encodeWeights(w))).toEqual(w);
    });
  }

  const blob = () => encodeWeights(initialWeights(resolveConfig({}), 8, 3, 1));

  it('refuses a truncated blob', () => {
    const b = blob();
    expect(() => decodeWeights(b.slice(0, b.length - 4))).toThrow(CorruptWeightsError);
    expect(() => decodeWeights(b.slice(0, 20))).toThrow(CorruptWeightsError);
    expect(() => decodeWeights(b.slice(0, 3))).toThrow(CorruptWeightsError);
  });

  it('refuses a flipped payload byte (checksum)', () => {
    const b = blob();
    b[b.length - 10]! ^= 0x01;
    expect(() => decodeWeights(b)).toThrow(/checksum/);
  });

  it('refuses a wrong magic number and a mangled header', () => {
    const b = blob();
    const wrongMagic = b.slice();
    wrongMagic[0] = 0;
    expect(() => decodeWeights(wrongMagic)).toThrow(/magic/);
    const mangled = b.slice();
    mangled[9] = '}'.charCodeAt(0);
    expect(() => decodeWeights(mangled)).toThrow(CorruptWeightsError);
  });
});
