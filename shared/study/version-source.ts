/**
 * Where a model version came from: a study (its `trial`) or a training session (its `trial` is then the
 * epoch it was promoted at). Both store their id as `studyId`; the session's weights carry its tag, so
 * every stored version, old ones included, tells which it is.
 */
import { SESSION_WEIGHTS_TAG } from '../storage/keys';
import type { ModelVersion } from './types';

export interface VersionSource {
  kind: 'study' | 'session';
  id: string;
}

export function versionSource(v: Pick<ModelVersion, 'studyId' | 'weightsKey'>): VersionSource {
  const tag = v.weightsKey.slice(v.weightsKey.lastIndexOf('/') + 1);
  return { kind: tag.startsWith(SESSION_WEIGHTS_TAG) ? 'session' : 'study', id: v.studyId };
}
