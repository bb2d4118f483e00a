/** The worker entry: HTTP, the trial queue consumer, the cron trigger, and the Durable Object classes. */
import { createApp } from './api/app';
import { runSchedules } from './cron';
import { consumeTrials } from './trials';
import type { TrialMessage } from '../shared/study/trial';

export { DatasetCatalog } from './durable/dataset-catalog';
export { ModelRegistry } from './durable/model-registry';
export { StudyCoordinator } from './durable/study-coordinator';
export { TrainingSession } from './durable/training-session';
export { ApiKey } from './durable/api-key';
export { KeyDirectory } from './durable/key-directory';
export { AuditLog } from './durable/audit-log';
export { ModelMonitor } from './durable/model-monitor';

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => consumeTrials(batch, env),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runSchedules(env, new Date(controller.scheduledTime)));
  },
} satisfies ExportedHandler<Env, TrialMessage>;
