/**
 * The trial function: a Queue consumer that trains one trial per message and reports to the study's
 * coordinator. Failures are retried by the queue; the last attempt (or the dead-letter queue) records
 * the trial as failed so the study still completes.
 */
import { EmptySplitError } from '../models/epoch';
import { logError, log } from '../shared/log';
import { R2BlobStore } from '../shared/storage/blob-store';
import { KvStore } from '../shared/storage/kv-store';
import { failedResult, runTrial, type TrialMessage } from '../shared/study/trial';
import { studyStub } from './durable/stubs';

export const TRIALS_DLQ = 'edge-tuner-trials-dlq';

function coordinator(env: Env, studyId: string) {
  return studyStub(env.STUDIES, studyId);
}

export async function consumeTrials(batch: MessageBatch<TrialMessage>, env: Env): Promise<void> {
  if (batch.queue === TRIALS_DLQ) return consumeDeadLetters(batch, env);
  const maxAttempts = Number(env.TRIAL_MAX_ATTEMPTS) || 3;
  for (const msg of batch.messages) {
    const { studyId, trial } = msg.body;
    const study = coordinator(env, studyId);
    const task = await study.begin(trial);
    if (!task || task.finished) {
      msg.ack();
      continue;
    }
    log('trial_start', { studyId, trial, attempt: msg.attempts, config: task.planned.params });
    try {
      const result = await runTrial(task.spec, task.planned, {
        store: new KvStore(env.KV),
        blobs: new R2BlobStore(env.DATASETS),
        attempt: msg.attempts,
        faultsAllowed: env.ALLOW_FAULT_INJECTION === 'true',
        rung: (epoch, valAccuracy) => study.rung(trial, epoch, valAccuracy),
      });
      await study.report(trial, result);
      msg.ack();
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      logError('trial_error', { studyId, trial, attempt: msg.attempts, reason });
      // The same data gives the same error on every attempt: record it now rather than retry.
      if (msg.attempts >= maxAttempts || err instanceof EmptySplitError) {
        await study.report(trial, failedResult(msg.attempts, `failed after ${msg.attempts} attempts: ${reason}`));
        msg.ack();
      } else {
        msg.retry();
      }
    }
  }
}

/** Messages that exhausted the queue's retries without the consumer recording them (e.g. the isolate died). */
async function consumeDeadLetters(batch: MessageBatch<TrialMessage>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const { studyId, trial } = msg.body;
    await coordinator(env, studyId).report(
      trial,
      failedResult(Number(env.TRIAL_MAX_ATTEMPTS) || 3, 'dead-lettered: retries exhausted'),
    );
    msg.ack();
  }
}
