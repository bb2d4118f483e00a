/**
 * The line each listing shows, written by its owner (study coordinator, training session, model registry,
 * dataset catalog) and read by the API and the dashboard. One definition, so a field the writer adds is a
 * field every reader sees typed. Types only: the dashboard imports this module.
 */

export type StudyHeadline = {
  model: string;
  dataset: string;
  /** The search label: "random", "asha", "tpe+asha", ... */
  strategy: string;
  status: string;
  createdAt: string;
  total: number;
  finished: number;
  bestValAccuracy: number | null;
  promotedVersion: number | null;
};

export type SessionHeadline = {
  model: string;
  dataset: string;
  status: string;
  epoch: number;
  epochs: number;
  createdAt: string;
  valAccuracy: number | null;
};

export type ModelHeadline = {
  version: number;
  validationAccuracy: number;
  testAccuracy: number;
  studyId: string;
  updatedAt: string;
};

/** Headline of a dataset in listings. */
export type DatasetHeadline = {
  version: string;
  rows: number;
  features: number;
  classes: number;
  createdAt: string;
  scheduled: boolean;
};
