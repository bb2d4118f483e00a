import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/storage/keys';
import { versionSource } from '../../shared/study/version-source';

describe('where a model version came from', () => {
  it("tells a session's version from a study's by the tag its weights were stored under", () => {
    const study = 'digits-20261202041751-a74e10';
    expect(versionSource({ studyId: study, weightsKey: keys.trialWeights(study, 3, 'a1-0f3c2b9e') })).toEqual({
      kind: 'study',
      id: study,
    });
    // A session's id is in studyId, and its trial is the epoch it was promoted at.
    const session = 'session-digits-20261202041751-b81f07';
    expect(versionSource({ studyId: session, weightsKey: keys.trialWeights(session, 12, 'session-9d2e4c1a') })).toEqual(
      { kind: 'session', id: session },
    );
    // A model named "session" has study ids that start like a session's: the weights' tag still decides.
    const lookalike = 'session-20261202041751-c03d11';
    expect(versionSource({ studyId: lookalike, weightsKey: keys.trialWeights(lookalike, 0, 'a2-77aa01bc') }).kind).toBe(
      'study',
    );
  });
});
