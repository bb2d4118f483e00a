/**
 * Request and response schemas: the same zod objects validate requests and generate /openapi.json.
 */
import { z } from '@hono/zod-openapi';
import { ModelConfigSchema } from '../../models/config';
import { SLICE_TARGET_MS } from '../../models/session-pace';
import { SCOPES } from '../../shared/access/scopes';
import { DEFAULT_SIGNIFICANCE } from '../../shared/study/compare';
import type { DatasetSchedule } from '../../shared/datasets';
import { SAMPLERS, STRATEGIES, type Budget } from '../../shared/study/types';

/** Model, dataset and study names: lowercase, digits, '-' and '_' only (no dots, slashes or spaces). */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const STUDY_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,100}$/;
export const MAX_INSTANCES = 1024;
export const MAX_BODY_BYTES = 1024 * 1024;

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string().openapi({ example: 'instances[0]: expected 64 features, got 3' }),
    }),
  })
  .openapi('Error');

export const ModelNameParam = z.object({
  name: z
    .string()
    .regex(NAME_PATTERN, 'model names use a-z, 0-9, "-" and "_" (max 64)')
    .openapi({ param: { name: 'name', in: 'path' }, example: 'digits' }),
});

export const VersionParams = ModelNameParam.extend({
  version: z
    .string()
    .regex(/^[1-9][0-9]{0,8}$/, 'version must be a positive integer')
    .openapi({ param: { name: 'version', in: 'path' }, example: '1' }),
});

export const StudyIdParam = z.object({
  id: z
    .string()
    .regex(STUDY_ID_PATTERN, 'study ids use a-z, 0-9, "-" and "_"')
    .openapi({ param: { name: 'id', in: 'path' } }),
});

const finiteNumber = z.number().refine(Number.isFinite, 'must be a finite number');

/** A number (every model), or a string, boolean or null (a table model's categories and missing cells). */
const instanceValue = z.union([finiteNumber, z.string().max(1024), z.boolean(), z.null()], {
  error: 'must be a finite number (a table model also reads a string, boolean or null)',
});

export const PredictRequestSchema = z
  .object({
    instances: z
      .array(z.union([z.array(instanceValue), z.record(z.string(), instanceValue)]))
      .refine((a) => a.length > 0, 'instances must not be empty')
      .refine((a) => a.length <= MAX_INSTANCES, `at most ${MAX_INSTANCES} instances per request`)
      .openapi({ example: [[0, 0, 5, 13, 9, 1, 0, 0]] }),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .openapi({ description: "Confidence below which a prediction is flagged for review (default: the model's)." }),
    topK: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: 'Return only the k most probable classes in `probabilities`.' }),
  })
  .strict()
  .openapi('PredictRequest');

export const PredictionSchema = z.object({
  label: z.string(),
  classIndex: z.number().int(),
  confidence: z.number(),
  probabilities: z.record(z.string(), z.number()),
  review: z.boolean(),
});

export const PredictResponseSchema = z
  .object({
    model: z.string(),
    version: z.number().int(),
    predictions: z.array(PredictionSchema),
  })
  .openapi('PredictResponse');

export const MetricsSchema = z.object({
  validationAccuracy: z.number(),
  validationLoss: z.number(),
  testAccuracy: z.number(),
  testRecall: z
    .array(z.number().nullable())
    .optional()
    .openapi({ description: 'Recall per class on the test rows, in classNames order (null: no test row of it).' }),
  testMacroF1: z.number().optional().openapi({ description: 'Mean F1 over the classes, on the test rows.' }),
  testBalancedAccuracy: z
    .number()
    .optional()
    .openapi({ description: 'Mean recall over the classes: accuracy as if every class were equally frequent.' }),
});

const ReliabilityBinSchema = z.object({
  upper: z.number(),
  rows: z.number().int(),
  accuracy: z.number().nullable(),
  confidence: z.number().nullable(),
});

export const CalibrationSchema = z
  .object({
    temperature: z.number(),
    eceBefore: z.number().openapi({ description: 'Expected calibration error (15 bins) on validation, before' }),
    eceAfter: z.number(),
    test: z.object({
      eceBefore: z.number(),
      eceAfter: z.number(),
      before: z.array(ReliabilityBinSchema),
      after: z.array(ReliabilityBinSchema),
    }),
  })
  .openapi('Calibration');

const LabelScoreSchema = z.object({
  labelled: z.number().int(),
  correct: z.number().int(),
  accuracy: z.number().nullable(),
});

export const LiveQualitySchema = z
  .object({
    versions: z.array(
      z.object({
        version: z.number().int(),
        flagged: LabelScoreSchema,
        audit: LabelScoreSchema.openapi({ description: 'The random audit sample: the unbiased estimate.' }),
        pending: z.number().int(),
        confidence: z.array(z.number().int()).openapi({ description: 'Served predictions per confidence decile.' }),
        served: z.number().int(),
      }),
    ),
    agreement: z.array(
      z.object({
        champion: z.number().int(),
        challenger: z.number().int(),
        mode: z.enum(['shadow', 'canary']),
        compared: z.number().int(),
        agreed: z.number().int(),
        rate: z.number().nullable(),
      }),
    ),
    skipped: z.number().int(),
    dropped: z.number().int(),
  })
  .openapi('LiveQuality');

/** Where a version came from (`studyId` and `trial` name a session and an epoch when it is a session). */
const VersionSourceSchema = z.object({ kind: z.enum(['study', 'session']), id: z.string() }).openapi({
  description:
    'Where the version came from: a study (GET /v1/studies/{id}) or a training session (GET /v1/sessions/{id}), which may since have been deleted.',
});

export const ModelMetadataSchema = z
  .object({
    name: z.string(),
    version: z.number().int(),
    createdAt: z.string(),
    studyId: z.string(),
    trial: z.number().int(),
    source: VersionSourceSchema,
    dataset: z.string(),
    featureNames: z.array(z.string()),
    standardisation: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }),
    classNames: z.array(z.string()),
    hyperparameters: ModelConfigSchema,
    inputSchema: z
      .array(
        z.union([
          z.object({
            column: z.string(),
            type: z.literal('categorical'),
            categories: z.array(z.string()),
            other: z.boolean(),
            missingCategory: z.boolean(),
          }),
          z.object({
            column: z.string(),
            type: z.enum(['numeric', 'boolean']),
            imputation: z.number(),
            missingIndicator: z.boolean(),
          }),
        ]),
      )
      .optional()
      .openapi({
        description:
          "A table model's inputs, in order: per column its type; categories with their own input (others and unseen values share `other`; a missing value is its own category when training had one); numeric/boolean: the training median that replaces a missing value, and whether a missing indicator follows. `instances` may be objects by column (numbers, strings, null) or arrays in this order.",
      }),
    metrics: MetricsSchema,
    threshold: z.number(),
    members: z
      .array(
        z.object({
          trial: z.number().int(),
          weight: z.number(),
          validationAccuracy: z.number(),
          hyperparameters: ModelConfigSchema,
        }),
      )
      .nullable()
      .openapi({
        description:
          'An ensemble version: the trials whose predictions are averaged (weight: times picked by ensemble selection); null for a single network.',
      }),
    calibration: CalibrationSchema.nullable().openapi({
      description:
        'Temperature scaling fitted on the validation split; `confidence` and `review` use the scaled probabilities. Null for versions promoted before it existed.',
    }),
    live: LiveQualitySchema.extend({
      asOf: z.string().openapi({ description: 'When these figures were read from the model monitor.' }),
    })
      .nullable()
      .openapi({
        description:
          'Live quality of every version the model served (GET /v1/models/{name}/quality), read at most 10 s before `asOf` by this isolate; null while the monitor could not be reached in time (the metadata never waits for it long).',
      }),
  })
  .openapi('ModelMetadata');

export const ModelListSchema = z
  .object({
    models: z.array(
      z.object({
        name: z.string(),
        version: z.number().int().nullable(),
        metrics: z.object({ validationAccuracy: z.number(), testAccuracy: z.number() }).nullable(),
        studyId: z.string().nullable(),
      }),
    ),
  })
  .openapi('ModelList');

/** The evidence of a promotion decision: the champion scored on the challenger's test rows. */
export const ComparisonSchema = z
  .union([
    z.object({
      comparable: z.literal(true),
      championVersion: z.number().int(),
      split: z.enum(['test', 'reviewed']),
      dataset: z.string(),
      datasetVersion: z.string(),
      rows: z.number().int().openapi({ description: "Test rows of the challenger's dataset version, scored by both." }),
      championAccuracy: z.number(),
      challengerAccuracy: z.number(),
      discordant: z
        .object({ championOnly: z.number().int(), challengerOnly: z.number().int() })
        .openapi({ description: 'Rows only one of the two models gets right.' }),
      pValue: z.number().openapi({ description: "McNemar's exact two-sided p on the discordant rows." }),
    }),
    z.object({
      comparable: z.literal(false),
      championVersion: z.number().int(),
      dataset: z.string(),
      datasetVersion: z.string(),
      reason: z.string().openapi({ description: 'Why the champion cannot read these rows.' }),
    }),
  ])
  .nullable()
  .openapi('Comparison');

export const VersionListSchema = z
  .object({
    model: z.string(),
    current: z.number().int().nullable(),
    versions: z.array(
      z.object({
        version: z.number().int(),
        createdAt: z.string(),
        studyId: z.string(),
        trial: z.number().int(),
        source: VersionSourceSchema,
        metrics: MetricsSchema,
        promotedBy: z
          .object({ reason: z.string(), comparison: ComparisonSchema, explicit: z.boolean() })
          .nullable()
          .openapi({ description: 'The evidence the version was promoted on (null for versions older than it).' }),
      }),
    ),
    history: z.array(
      z.object({
        at: z.string(),
        action: z.enum(['promote', 'rollback']),
        from: z.number().int().nullable(),
        to: z.number().int(),
        studyId: z.string().nullable(),
        explicit: z.boolean().optional(),
      }),
    ),
  })
  .openapi('VersionList');

export const EvaluationSchema = z
  .object({
    model: z.string(),
    version: z.number().int(),
    dataset: z.string(),
    split: z.literal('test'),
    rows: z.number().int().openapi({ description: 'Rows of the test split; the sum of the confusion matrix.' }),
    classNames: z.array(z.string()),
    confusion: z
      .array(z.array(z.number().int()))
      .openapi({ description: 'confusion[actual][predicted]: row counts, in classNames order.' }),
    accuracy: z.number().openapi({ description: "Diagonal over total: the version's recorded test accuracy." }),
  })
  .openapi('Evaluation');

export const RollbackRequestSchema = z
  .object({ version: z.number().int().min(1) })
  .strict()
  .openapi('RollbackRequest');
export const RollbackResponseSchema = z
  .object({ model: z.string(), version: z.number().int(), previous: z.number().int().nullable() })
  .openapi('RollbackResponse');

/**
 * A study's size, in one place for every caller: the study request, a dataset's schedule and the cron's
 * RETUNE_SCHEDULES accept the same trials, parallelism and per-trial budget.
 */
const TrialsSchema = z.number().int().min(1).max(500);
const ParallelismSchema = z.number().int().min(1).max(64);
const BudgetFields = { epochs: z.number().int().min(1).max(500), maxSeconds: z.number().min(1).max(290) };
export const BudgetSchema = z.object(BudgetFields).strict() satisfies z.ZodType<Budget>;

export const StudyRequestSchema = z
  .object({
    dataset: z.string().regex(NAME_PATTERN).default('digits').openapi({ example: 'digits' }),
    model: z.string().regex(NAME_PATTERN).optional().openapi({ description: 'Defaults to the dataset name.' }),
    strategy: z.enum(STRATEGIES).optional().openapi({
      description:
        'Alias kept for older clients: random, grid, local, or asha (= sampler random + pruner asha). Use sampler and pruner instead.',
    }),
    sampler: z.enum(SAMPLERS).optional().openapi({
      description:
        'Who proposes configurations (default random): random, grid, local (around the best of `from`), or tpe (a tree-structured Parzen estimator over the results so far).',
    }),
    pruner: z
      .object({
        type: z.literal('asha'),
        minEpochs: z.number().int().min(1).max(500).default(1),
        reductionFactor: z.number().int().min(2).max(10).default(3),
      })
      .strict()
      .nullable()
      .optional()
      .openapi({
        description:
          'Who stops trials early (default none): asha = successive halving with rungs at minEpochs * reductionFactor^k epochs. Works with any sampler.',
      }),
    tpe: z
      .object({
        startupTrials: z.number().int().min(1).max(500).optional(),
        candidates: z.number().int().min(1).max(1000).optional(),
      })
      .strict()
      .optional()
      .openapi({
        description:
          'Sampler tpe only: random start-up trials (default min(10, max(5, trials/4))), EI candidates (24).',
      }),
    trials: TrialsSchema.default(24),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional()
      .openapi({ description: 'Study seed; chosen and recorded when omitted.' }),
    parallelism: ParallelismSchema.default(4),
    margin: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .openapi({ description: 'The challenger must beat the champion on the same test rows by more than this.' }),
    significance: z.number().gt(0).max(1).default(DEFAULT_SIGNIFICANCE).openapi({
      description: "Level of McNemar's exact test on the rows where champion and challenger disagree.",
    }),
    budget: z
      .object({
        epochs: BudgetFields.epochs.default(20),
        maxSeconds: BudgetFields.maxSeconds.default(60),
      })
      .strict()
      .default({ epochs: 20, maxSeconds: 60 }),
    space: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "Overrides of the default search space (default: the dataset's settings)." }),
    from: z
      .string()
      .regex(STUDY_ID_PATTERN)
      .optional()
      .openapi({ description: 'Earlier study whose best configurations the `local` strategy refines.' }),
    asha: z
      .object({
        minEpochs: z.number().int().min(1).max(500).default(1),
        reductionFactor: z.number().int().min(2).max(10).default(3),
      })
      .strict()
      .optional()
      .openapi({
        description:
          'Legacy, with strategy `asha` only (use pruner): rungs at minEpochs * reductionFactor^k epochs (below budget.epochs); a trial continues past a rung only while in the top 1/reductionFactor of that rung so far.',
      }),
    warmStartFrom: z.string().regex(STUDY_ID_PATTERN).optional().openapi({
      description:
        'A model name or study id: its best configurations (found on another dataset) are evaluated first, then the sampler continues.',
    }),
    faults: z
      .object({
        throwOnTrials: z.array(z.number().int().min(0)).max(500).default([]),
        stallOnTrials: z.array(z.number().int().min(0)).max(500).default([]),
        corruptWeightsOfTrials: z.array(z.number().int().min(0)).max(500).default([]),
      })
      .strict()
      .optional()
      .openapi({ description: 'Test-only fault injection; ignored unless the deployment enables it.' }),
  })
  .strict()
  .openapi('StudyRequest');

export const StudyStartedSchema = z
  .object({ id: z.string(), model: z.string(), status: z.literal('running'), trials: z.number().int() })
  .openapi('StudyStarted');

export const StudyListSchema = z
  .object({
    studies: z.array(
      z.object({
        id: z.string(),
        model: z.string(),
        dataset: z.string(),
        strategy: z.string(),
        status: z.string(),
        createdAt: z.string(),
        total: z.number().int(),
        finished: z.number().int(),
        bestValAccuracy: z.number().nullable(),
        promotedVersion: z.number().int().nullable(),
      }),
    ),
  })
  .openapi('StudyList');

export const ProgressSchema = z
  .object({
    total: z.number().int(),
    pending: z.number().int(),
    running: z.number().int(),
    complete: z.number().int(),
    pruned: z
      .number()
      .int()
      .openapi({ description: 'Stopped early at a rung by successive halving (strategy `asha`).' }),
    diverged: z.number().int(),
    failed: z.number().int(),
  })
  .openapi('Progress');

// Study views and trial records are large documents produced by the coordinator; described loosely.
export const StudyViewSchema = z
  .object({ id: z.string(), status: z.enum(['running', 'complete']), progress: ProgressSchema })
  .passthrough()
  .openapi('StudyView');
export const TrialListSchema = z
  .object({
    studyId: z.string(),
    trials: z.array(z.object({ trial: z.number().int(), status: z.string() }).passthrough()),
  })
  .openapi('TrialList');

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    backend: z.string(),
    simd: z.boolean(),
    binary: z.string().nullable(),
    threads: z.number().int(),
    tfjsVersion: z.string(),
    initMs: z.number().openapi({ description: 'How long the backend took to start in this isolate.' }),
    problems: z.array(z.string()).optional(),
  })
  .openapi('Health');

/** Upload bodies: a 784-feature x 5,000-row CSV of 0..255 pixels is ~14 MB. */
/** The CSV text is held whole while it is parsed; with the 4 M-cell cap this keeps an upload under 100 MB. */
export const MAX_DATASET_BYTES = 24 * 1024 * 1024;

export const DatasetNameParam = z.object({
  name: z
    .string()
    .regex(NAME_PATTERN, 'dataset names use a-z, 0-9, "-" and "_" (max 64)')
    .openapi({ param: { name: 'name', in: 'path' }, example: 'iris' }),
});

export const DatasetUploadQuery = z.object({
  label: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .openapi({
      param: { name: 'label', in: 'query' },
      description: 'The label column, any column by name (CSV default: the last one; JSON: the body may say `label`).',
    }),
  types: z
    .string()
    .max(16_384)
    .optional()
    .openapi({
      param: { name: 'types', in: 'query' },
      description:
        'Declared column types overriding the inference: `col:categorical,col2:drop` or a JSON object {"col": "numeric" | "categorical" | "boolean" | "drop"}.',
      example: 'zip:categorical,comment:drop',
    }),
  missing: z
    .string()
    .max(1024)
    .optional()
    .openapi({
      param: { name: 'missing', in: 'query' },
      description:
        'Comma-separated cells that mean "missing" (default NA,N/A,NaN,null,?); an empty cell is always missing.',
      example: 'NA,-,unknown',
    }),
});

export const DatasetJsonSchema = z
  .object({
    features: z.array(z.string()),
    rows: z.array(z.array(z.number())),
    labels: z.array(z.union([z.string(), z.number().int()])),
  })
  .openapi('DatasetJson');

/** A dataset's re-tuning schedule; the cron's RETUNE_SCHEDULES entries add the model and dataset names. */
export const ScheduleSchema = z
  .object({
    everyHours: z
      .number()
      .positive()
      .max(24 * 365),
    trials: TrialsSchema,
    budget: BudgetSchema,
    parallelism: ParallelismSchema,
  })
  .strict() satisfies z.ZodType<DatasetSchedule>;

export const DatasetSettingsSchema = z
  .object({
    schedule: ScheduleSchema.nullable()
      .default(null)
      .openapi({ description: 'Re-tuning schedule honoured by the cron (null: none).' }),
    space: z
      .record(z.string(), z.unknown())
      .default({})
      .openapi({ description: 'Search-space overrides for studies on this dataset.' }),
  })
  .strict()
  .openapi('DatasetSettings');

export const DatasetSummarySchema = z
  .object({
    name: z.string(),
    version: z.string(),
    embedded: z.boolean(),
    featureNames: z.array(z.string()),
    classNames: z.array(z.string()),
    classCounts: z.array(z.number().int()),
    rows: z.number().int(),
    features: z.number().int(),
    splitSeed: z.number().int(),
    splitCounts: z.object({ train: z.number().int(), validation: z.number().int(), test: z.number().int() }),
    createdAt: z.string(),
    settings: DatasetSettingsSchema,
    format: z
      .literal('table-1')
      .optional()
      .openapi({ description: 'Stored as a typed table (absent: older numeric form).' }),
    label: z.string().optional().openapi({ description: 'The label column.' }),
    columns: z
      .array(
        z.object({
          name: z.string(),
          type: z.enum(['numeric', 'boolean', 'categorical']),
          source: z.enum(['inferred', 'declared']),
        }),
      )
      .optional()
      .openapi({ description: 'The input columns kept, with their type and whether it was inferred or declared.' }),
    dropped: z
      .array(z.object({ name: z.string(), reason: z.enum(['constant', 'all missing', 'id-like', 'requested']) }))
      .optional()
      .openapi({ description: 'Columns not used as inputs, each with why.' }),
    missingMarkers: z.array(z.string()).optional(),
    inputWidth: z
      .number()
      .int()
      .optional()
      .openapi({ description: "The model's input width once categories are one-hot (training rows of the split)." }),
  })
  .openapi('Dataset');

export const DatasetListSchema = z
  .object({
    datasets: z.array(
      z.object({
        name: z.string(),
        version: z.string(),
        rows: z.number().int(),
        features: z.number().int(),
        classes: z.number().int(),
        createdAt: z.string(),
        scheduled: z.boolean(),
      }),
    ),
  })
  .openapi('DatasetList');

export const SessionListSchema = z
  .object({
    sessions: z.array(
      z.object({
        id: z.string(),
        model: z.string(),
        dataset: z.string(),
        status: z.string(),
        epoch: z.number().int(),
        epochs: z.number().int(),
        createdAt: z.string(),
        valAccuracy: z.number().nullable(),
      }),
    ),
  })
  .openapi('SessionList');

export const SessionIdParam = z.object({
  id: z
    .string()
    .regex(STUDY_ID_PATTERN, 'session ids use a-z, 0-9, "-" and "_"')
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const SessionRequestSchema = z
  .object({
    dataset: z.string().regex(NAME_PATTERN).default('digits').openapi({ example: 'digits' }),
    model: z
      .string()
      .regex(NAME_PATTERN)
      .optional()
      .openapi({ description: 'The model a promotion goes to; defaults to the dataset name.' }),
    config: ModelConfigSchema.partial().default({}).openapi({
      description: 'Hyperparameters (every key optional, filled from the defaults); `epochs` is the target.',
    }),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    slice: z
      .object({
        epochs: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(2)
          .openapi({ description: 'At most this many epochs per alarm (one invocation).' }),
        targetMs: z.number().int().min(1).max(SLICE_TARGET_MS).default(SLICE_TARGET_MS).openapi({
          description:
            'Wall time one slice aims for: the mini-batches per slice follow from the measured time per batch (at least one). The session answers requests between slices.',
        }),
        intervalMs: z.number().int().min(0).max(3_600_000).default(0).openapi({ description: 'Pause between slices.' }),
      })
      .strict()
      .default({ epochs: 2, targetMs: SLICE_TARGET_MS, intervalMs: 0 }),
  })
  .strict()
  .openapi('SessionRequest');

export const SessionAdjustSchema = z
  .object({
    learningRate: z.number().gt(0).max(100).optional(),
    batchSize: z.number().int().min(1).max(4096).optional(),
    dropout: z.number().min(0).max(0.9).optional(),
    l1: z.number().min(0).max(1).optional(),
    l2: z.number().min(0).max(1).optional(),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: 'New target; raising it continues a complete session.' }),
  })
  .strict()
  .refine((o) => Object.keys(o).length > 0, 'name at least one hyperparameter to change')
  .openapi('SessionAdjust');

export const SessionPromoteSchema = z
  .object({
    margin: z.number().min(0).max(1).default(0),
    significance: z.number().gt(0).max(1).default(DEFAULT_SIGNIFICANCE),
  })
  .strict()
  .openapi('SessionPromote');

const EpochRecordSchema = z.object({
  epoch: z.number().int(),
  learningRate: z.number(),
  loss: z.number(),
  accuracy: z.number(),
  valLoss: z.number(),
  valAccuracy: z.number(),
  ms: z.number(),
});

export const SessionViewSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    dataset: z.string(),
    status: z.enum(['running', 'paused', 'complete', 'diverged', 'failed']),
    epoch: z.number().int().openapi({ description: 'Epochs trained so far.' }),
    rowsDone: z
      .number()
      .int()
      .openapi({ description: 'Rows of the epoch in progress already trained (0 between epochs).' }),
    failure: z
      .object({ reason: z.string(), epoch: z.number().int(), at: z.string() })
      .nullable()
      .openapi({ description: 'Why the session failed or diverged; null otherwise.' }),
    pace: z
      .object({
        msPerBatch: z.number(),
        source: z.enum(['io-boundary', 'estimate']),
        last: z.object({ batches: z.number().int(), ms: z.number() }).nullable(),
      })
      .nullable()
      .openapi({ description: 'How slices are sized: time per mini-batch, measured across I/O or estimated.' }),
    // A copy made here: zod gives a schema the .openapi method when it is built, and ModelConfigSchema may
    // have been built (models/config.ts, plain zod) before @hono/zod-openapi was first imported.
    config: ModelConfigSchema.clone().openapi({ description: 'The hyperparameters in effect for the next epoch.' }),
    sliceEpochs: z.number().int(),
    sliceTargetMs: z.number().int(),
    intervalMs: z.number().int(),
    curve: z.array(EpochRecordSchema),
    adjustments: z.array(
      z.object({
        epoch: z.number().int().openapi({ description: 'The first epoch trained with the new values.' }),
        changes: z.record(z.string(), z.number()),
        previous: z.record(z.string(), z.number()),
        at: z.string(),
      }),
    ),
    promotion: z
      .object({ promoted: z.boolean(), version: z.number().int().nullable(), reason: z.string() })
      .passthrough()
      .nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .passthrough()
  .openapi('SessionView');

export const PromotionSchema = z
  .object({
    promoted: z.boolean(),
    version: z.number().int().nullable(),
    reason: z.string(),
    champion: z.object({ version: z.number().int(), valAccuracy: z.number() }).nullable(),
    comparison: ComparisonSchema,
    guard: z.object({ margin: z.number(), significance: z.number() }).nullable(),
    explicit: z.boolean().optional(),
    advice: z.string().optional(),
    ensemble: z
      .object({
        pool: z.array(z.number().int()),
        members: z.array(z.object({ trial: z.number().int(), weight: z.number() })),
        valAccuracy: z.number(),
        bestSingle: z.object({ trial: z.number().int(), valAccuracy: z.number() }),
        chosen: z.boolean(),
        reason: z.string(),
      })
      .optional()
      .openapi({
        description:
          "Greedy ensemble selection over the study's best complete trials on validation; `chosen` when it became the candidate.",
      }),
  })
  .passthrough()
  .openapi('Promotion');

/** A new key's limit unless the request says otherwise: 10 requests/s sustained, bursts of 600. */
export const DEFAULT_KEY_RATE_LIMIT = { requests: 600, perSeconds: 60 };

export const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

const RateLimitSchema = z
  .object({
    requests: z.number().int().min(1).max(1_000_000).openapi({ description: 'The burst: requests allowed at once.' }),
    perSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .openapi({ description: 'The bucket refills `requests` over this many seconds.' }),
  })
  .strict()
  .openapi('RateLimit');

export const KeyRequestSchema = z
  .object({
    name: z.string().min(1).max(100).openapi({ example: 'checkout-service' }),
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .max(SCOPES.length)
      .openapi({ description: '`admin` implies every other scope.', example: ['predict'] }),
    models: z
      .array(z.string().regex(NAME_PATTERN))
      .min(1)
      .max(100)
      .nullable()
      .default(null)
      .openapi({ description: 'Limit the key to these models (null: every model).', example: ['digits'] }),
    rateLimit: RateLimitSchema.nullable()
      .default(DEFAULT_KEY_RATE_LIMIT)
      .openapi({ description: 'Token bucket per key (null: unlimited).' }),
  })
  .strict()
  .openapi('KeyRequest');

export const KeySummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    models: z.array(z.string()).nullable(),
    rateLimit: RateLimitSchema.nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('Key');

export const KeyCreatedSchema = z
  .object({
    key: KeySummarySchema,
    token: z.string().openapi({ description: 'The secret. Shown once, here; only its SHA-256 is stored.' }),
  })
  .openapi('KeyCreated');

export const KeySelfSchema = z
  .object({
    mode: z.enum(['open', 'keys']),
    keyId: z
      .string()
      .nullable()
      .openapi({ description: 'The key\'s id, "root" for the ADMIN_TOKEN, null for no key.' }),
    scopes: z.array(z.enum(SCOPES)).openapi({
      description:
        'What this caller may do here: `admin` spelled out as every scope; without a key in open mode, the public ones.',
    }),
    models: z.array(z.string()).nullable().openapi({ description: 'The models it is limited to; null: every model.' }),
  })
  .openapi('KeySelf');

export const KeyListSchema = z.object({ keys: z.array(KeySummarySchema) }).openapi('KeyList');

export const KeyIdParam = z.object({
  id: z
    .string()
    .regex(KEY_ID_PATTERN, 'key ids are 16 hex digits')
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const AuditQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(50)
    .openapi({ param: { name: 'limit', in: 'query' } }),
  before: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .openapi({ param: { name: 'before', in: 'query' }, description: '`next` of the previous page.' }),
});

export const AuditPageSchema = z
  .object({
    entries: z.array(
      z.object({
        seq: z.number().int(),
        at: z.string(),
        keyId: z.string().openapi({ description: 'The API key id, or "root" for ADMIN_TOKEN.' }),
        action: z.string().openapi({ example: 'POST /v1/studies' }),
        target: z.string().openapi({ example: '/v1/studies/digits-1a2b' }),
        status: z.number().int(),
      }),
    ),
    next: z.number().int().nullable(),
  })
  .openapi('AuditPage');
