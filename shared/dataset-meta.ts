/**
 * What a stored dataset version says about itself (GET /v1/datasets/:name answers it as it is). Types only,
 * apart from one constant, so that the dashboard can import them without the worker-side dataset code.
 */
import type { ColumnSchema, DroppedColumn } from '../models/preprocess';
import type { Budget } from './study/types';

/** Validated by ScheduleSchema (functions/api/schemas.ts), which the compiler holds to this type. */
export interface DatasetSchedule {
  everyHours: number;
  trials: number;
  budget: Budget;
  parallelism: number;
}

export interface DatasetSettings {
  /** Re-tuning schedule honoured by the cron; null = not scheduled. */
  schedule: DatasetSchedule | null;
  /** Search-space overrides used by studies on this dataset that bring none of their own. */
  space: Record<string, unknown>;
}

/** The stored form of a version: `table-1` (typed columns, see encodeTableData); absent = the older numeric form. */
export const TABLE_FORMAT = 'table-1';

export interface DatasetMeta {
  name: string;
  version: string;
  embedded: boolean;
  /** The input columns kept (dropped ones are in `dropped`). */
  featureNames: string[];
  classNames: string[];
  classCounts: number[];
  rows: number;
  features: number;
  splitSeed: number;
  splitCounts: { train: number; validation: number; test: number };
  createdAt: string;
  settings: DatasetSettings;
  /** Stored tables: the storage format, the label column, each input column's type, the dropped columns. */
  format?: typeof TABLE_FORMAT;
  label?: string;
  columns?: ColumnSchema[];
  dropped?: DroppedColumn[];
  missingMarkers?: string[];
  /** The model's input width once categories are one-hot (fitted on this version's training rows). */
  inputWidth?: number;
  /** Set on a version made by appending reviewed rows to `basedOn` (their provenance is in R2, provenance.json). */
  provenance?: { basedOn: string; reviewRows: number; appendedAt: string };
}

/** Where one appended row came from: a reviewer's label on a served prediction. */
export interface RowProvenance {
  row: number;
  source: 'review';
  reviewId: string;
  labelledAt: string;
}
