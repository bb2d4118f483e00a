/** Request and response shapes of the live loop's routes (reviews, traffic, quality, drift). */
import { z } from '@hono/zod-openapi';
import { MAX_REVIEW_PAGE } from '../durable/model-monitor';
import { ComparisonSchema } from './schemas';

export const REVIEW_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}\.[0-9a-f]{24}$/;

export const ReviewIdParam = z.object({
  id: z
    .string()
    .regex(REVIEW_ID_PATTERN, 'review ids are "<model>.<24 hex digits>"')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'digits.0123456789abcdef01234567' }),
});

export const ReviewQuery = z.object({
  kind: z
    .enum(['flagged', 'audit'])
    .optional()
    .openapi({ description: 'Only flagged (below the threshold) or only audit-sample items; both when absent.' }),
  limit: z.coerce.number().int().min(1).max(MAX_REVIEW_PAGE).default(20),
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'after is the `next` of the previous page')
    .optional(),
});

const ReviewSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    version: z.number().int().openapi({ description: 'The version that answered.' }),
    kind: z.enum(['flagged', 'audit']),
    status: z.enum(['pending', 'labelled', 'discarded']),
    input: z.unknown().openapi({ description: 'The instance as it was sent (array in feature order, or object).' }),
    predicted: z.object({
      label: z.string(),
      confidence: z.number(),
      probabilities: z.record(z.string(), z.number()),
    }),
    createdAt: z.string(),
    seen: z.number().int().openapi({ description: 'Predictions that carried this input.' }),
    label: z.string().nullable(),
    labelledAt: z.string().nullable(),
    labelledBy: z.string().nullable(),
    appendedTo: z.string().nullable().openapi({ description: 'The dataset version the labelled row went into.' }),
    appendError: z.string().nullable(),
  })
  .openapi('Review');

export const ReviewResponseSchema = ReviewSchema;

export const ReviewPageSchema = z
  .object({ reviews: z.array(ReviewSchema), next: z.string().nullable() })
  .openapi('ReviewPage');

export const LabelRequestSchema = z
  .object({ label: z.string().min(1).max(200).openapi({ description: "One of the version's class names." }) })
  .strict()
  .openapi('LabelRequest');

const LiveGuardSchema = z
  .object({
    minLabels: z.number().int().min(1).max(100_000),
    margin: z.number().min(0).max(1),
    significance: z.number().gt(0).max(1),
  })
  .strict();

export const TrafficRequestSchema = z
  .object({
    challenger: z
      .number()
      .int()
      .min(1)
      .nullable()
      .openapi({ description: 'An existing version other than the current one; null ends the challenger traffic.' }),
    mode: z.enum(['canary', 'shadow']).default('canary'),
    percent: z.number().min(0).max(50).default(10),
    guard: LiveGuardSchema.optional().openapi({
      description:
        'Reviewed labels needed (since the traffic was set, or since a champion took over), margin and significance for a live promotion or an automatic rollback.',
    }),
  })
  .strict()
  .openapi('TrafficRequest');

const LiveDecisionSchema = z.object({
  action: z.enum(['promote', 'rollback']),
  from: z.number().int(),
  to: z.number().int(),
  moved: z.boolean(),
  reason: z.string(),
  comparison: ComparisonSchema,
  decidedAt: z.string(),
});

export const TrafficSchema = z
  .object({
    model: z.string(),
    current: z.number().int().nullable(),
    traffic: z
      .object({
        challenger: z.number().int(),
        mode: z.enum(['canary', 'shadow']),
        percent: z.number(),
        since: z.string(),
      })
      .nullable(),
    guard: LiveGuardSchema,
    decisions: z.array(LiveDecisionSchema),
  })
  .openapi('Traffic');

export const DriftQuery = z.object({
  threshold: z.coerce.number().gt(0).max(10).optional(),
});

export const DriftSchema = z
  .object({
    model: z.string(),
    version: z.number().int(),
    rows: z.number().int(),
    since: z.string().nullable(),
    threshold: z.number(),
    maxPsi: z.number().nullable(),
    drifted: z.array(z.string()),
    features: z.array(
      z.object({
        feature: z.string(),
        kind: z.enum(['numeric', 'categorical', 'boolean']),
        psi: z.number(),
        edges: z.array(z.number()),
        bins: z.array(z.string()),
        expected: z.array(z.number().int()),
        served: z.array(z.number().int()),
      }),
    ),
  })
  .openapi('Drift');
