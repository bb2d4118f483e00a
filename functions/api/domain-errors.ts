/**
 * The one table from the domain's errors to the API's error codes. Routes let these propagate and
 * onError answers them; anything not listed here is a bug and answers 500 `internal`.
 */
import { PreprocessError } from '../../models/preprocess';
import { DatasetError } from '../../models/tabular';
import { UnknownDatasetError } from '../../shared/datasets';
import { SplitMismatchError } from '../services/evaluation';
import { InvalidInstanceError } from '../services/predict';
import { ModelUnavailableError } from '../services/serving';
import { ApiError, type ErrorCode } from './http/errors';

const DOMAIN_ERRORS: [new (message: string) => Error, ErrorCode][] = [
  // A row or column of an uploaded table (the message names them).
  [DatasetError, 'validation_failed'],
  // A prediction request row that does not fit the model's features.
  [InvalidInstanceError, 'validation_failed'],
  // A table model's request value its preprocessing cannot read (names `instances[i].column`), or a
  // declared column type the upload's values contradict.
  [PreprocessError, 'validation_failed'],
  // The rows a version was tested on cannot be rebuilt here (dataset gone, replaced, or split differently).
  [UnknownDatasetError, 'not_found'],
  [SplitMismatchError, 'not_found'],
  // Neither the asked version's weights nor any earlier version's can be loaded.
  [ModelUnavailableError, 'unavailable'],
];

/** The API error for a domain error, or null when `err` is not one. */
export function fromDomainError(err: unknown): ApiError | null {
  for (const [type, code] of DOMAIN_ERRORS) if (err instanceof type) return new ApiError(code, err.message);
  return null;
}
