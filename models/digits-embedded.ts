/** The digits bytes bundled into the worker (wrangler's Data rule imports *.gz as an ArrayBuffer). */
import digitsGz from './data/digits.csv.gz';
import type { Dataset } from './dataset';
import { decodeDigits } from './digits';

export function loadEmbeddedDigits(): Promise<Dataset> {
  return decodeDigits(digitsGz);
}
