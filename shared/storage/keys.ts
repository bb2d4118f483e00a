/** Every KV key the project writes, in one place. Zero-padded numbers keep lexicographic = numeric order. */
const pad = (n: number) => String(n).padStart(4, '0');

export const keys = {
  /** Write-once trial record, written by the study's coordinator when it accepts the result. */
  trialRecord: (studyId: string, trial: number) => `study/${studyId}/trial/${pad(trial)}`,
  trialRecordPrefix: (studyId: string) => `study/${studyId}/trial/`,
  /** Trained weights of one attempt (immutable; attempts never overwrite each other). */
  trialWeights: (studyId: string, trial: number, attemptTag: string) =>
    `weights/${studyId}/${pad(trial)}/${attemptTag}`,
  /**
   * The study's aggregate (value = StudyView: progress, leaderboard, promotion), coalesced by its
   * coordinator to at most one write a second. Listings do not read it: they are in D1 (listings.ts).
   */
  studyAggregate: (studyId: string) => `study/${studyId}/aggregate`,
};
