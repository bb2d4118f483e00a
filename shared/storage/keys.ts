/** Every KV key the project writes, in one place. Zero-padded numbers keep lexicographic = numeric order. */
const pad = (n: number) => String(n).padStart(4, '0');

export const keys = {
  /** Write-once trial record, written by the study's coordinator when it accepts the result. */
  trialRecord: (studyId: string, trial: number) => `study/${studyId}/trial/${pad(trial)}`,
  trialRecordPrefix: (studyId: string) => `study/${studyId}/trial/`,
  /** Trained weights of one attempt (immutable; attempts never overwrite each other). */
  trialWeights: (studyId: string, trial: number, attemptTag: string) =>
    `weights/${studyId}/${pad(trial)}/${attemptTag}`,
  /** Study summary for listings: value = StudyView, metadata = headline. */
  studyIndex: (studyId: string) => `studyidx/${studyId}`,
  studyIndexPrefix: 'studyidx/',
  /** Session summary for listings: value = the session view without its curve, metadata = headline. */
  sessionIndex: (sessionId: string) => `sessionidx/${sessionId}`,
  sessionIndexPrefix: 'sessionidx/',
  /** Current version of a model for listings: value = ModelVersion, metadata = headline. */
  modelIndex: (model: string) => `modelidx/${model}`,
  modelIndexPrefix: 'modelidx/',
};
