/**
 * Every storage key built from a value, in one place: KV, R2 and the Durable Objects' own storage.
 * Zero-padded numbers keep lexicographic = numeric order (list() returns keys sorted).
 *
 * The strings are what stored data already sits under: changing one makes that data unreadable, so a
 * new layout gets a new key and a migration, never an edited template here.
 */
const pad = (n: number) => String(n).padStart(4, '0');

/** The attempt tag a training session gives the weights it promotes (a study's attempts are `a<n>-…`). */
export const SESSION_WEIGHTS_TAG = 'session-';

/** The KV namespace (binding KV): records and weights read from anywhere, written once. */
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

/** The R2 bucket of datasets (binding DATASETS): one folder per immutable version. */
export const datasetObjects = {
  /** Every object of one version starts with this prefix (deleted together when the version goes). */
  versionPrefix: (name: string, version: string) => `datasets/${name}/${version}/`,
  data: (name: string, version: string) => `datasets/${name}/${version}/data.bin`,
  meta: (name: string, version: string) => `datasets/${name}/${version}/meta.json`,
  /** A table version's column names, kinds and text dictionaries (format table-1). */
  table: (name: string, version: string) => `datasets/${name}/${version}/table.json`,
  /** Where each appended (reviewed) row of the version came from; absent for an uploaded version. */
  provenance: (name: string, version: string) => `datasets/${name}/${version}/provenance.json`,
};

/** Inside one StudyCoordinator (per study). One key per trial, so no value grows with the study. */
export const coordinatorKeys = {
  /** The trial's slot: state, attempts, when it started. */
  slot: (trial: number) => `slot:${pad(trial)}`,
  slotPrefix: 'slot:',
  /** The committed (write-once) trial record. */
  record: (trial: number) => `record:${pad(trial)}`,
  recordPrefix: 'record:',
  /** One planned trial, written once when proposed. */
  planned: (trial: number) => `planned:${pad(trial)}`,
  /** Results reported at one ASHA rung (an epoch count). */
  rung: (epoch: number) => `rung:${pad(epoch)}`,
  rungPrefix: 'rung:',
  /** A trial record owed to KV (committed here, not yet confirmed written there). */
  unpublished: (trial: number) => `unpublished:${pad(trial)}`,
  unpublishedPrefix: 'unpublished:',
};

/** Inside one ModelRegistry (per model). */
export const registryKeys = {
  version: (v: number) => `version:${String(v).padStart(6, '0')}`,
  versionPrefix: 'version:',
  /** The outcome of a study's guarded promotion: asked again, the same answer. */
  promotedStudy: (studyId: string) => `promotedStudy:${studyId}`,
  /** The outcome of a study's explicit (admin) promotion. */
  explicitStudy: (studyId: string) => `explicitStudy:${studyId}`,
  /** A live move (challenger promoted, champion rolled back on reviewed labels), made at most once. */
  liveMove: (action: string, from: number, to: number) => `live:${action}:${from}->${to}`,
  /** The last live decision of each action, moved or not. */
  lastLive: (action: string) => `lastLive:${action}`,
};

/** Inside the DatasetCatalog (one for all datasets). */
export const catalogKeys = {
  /** The current version's meta of a dataset. */
  current: (name: string) => `current:${name}`,
  currentPrefix: 'current:',
  /** A version and who pins it. */
  version: (name: string, version: string) => `version:${name}/${version}`,
  versionsOf: (name: string) => `version:${name}/`,
  /** What a holder (a study, a session) pins. */
  pin: (holder: string) => `pin:${holder}`,
  /** A version whose R2 objects are owed a delete. */
  doomed: (name: string, version: string) => `doomed:${name}/${version}`,
  doomedPrefix: 'doomed:',
};

/** Inside one TrainingSession: its large state as chunked blobs (functions/durable/chunked-values.ts). */
export const sessionKeys = {
  weightsPrefix: 'weights',
  /** Optimizer slot i (e.g. Adam's first and second moments of each variable). */
  optimizerSlotPrefix: (i: number) => `opt${i}`,
  /** Chunk i of the blob stored under `prefix`. */
  chunk: (prefix: string, i: number) => `${prefix}/${pad(i)}`,
};

/** Inside one ApiKey object (functions/durable/api-key.ts). */
export const apiKeyKeys = {
  /** The key's record: SHA-256 of its token, scopes, models, limit, revocation. */
  record: 'record',
  /** Its token bucket, written on every lease grant so an eviction does not refill it. */
  bucket: 'bucket',
};
