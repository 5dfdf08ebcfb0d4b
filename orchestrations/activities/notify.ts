import * as df from 'durable-functions';
import { config } from '../../lib/config';
import { notifierIdOf } from '../../lib/instanceId';
import { deliver, registerNotifySecrets, targetsOf, type Target } from '../../lib/notify/deliver';
import { runEvent, type RunEventFacts } from '../../lib/notify/event';
import type { RetryPolicy } from '../../lib/polling';
import { findRun } from '../../lib/runClient';
import { defineActivity, type ActivityInput } from './activity';

export const NOTIFY_ORCHESTRATION = 'notifyRunEvent';

/** The notifier's input: the event's facts and the receivers by position; no URL, no secret. */
export interface NotifierInput extends ActivityInput {
  event: RunEventFacts;
  targets: Target[];
  retry: RetryPolicy;
}

export interface HandOffInput extends ActivityInput {
  event: RunEventFacts;
}

/** The longest wait between two attempts at one receiver. */
const MAX_RETRY_DELAY_MS = 10 * 60_000;

/**
 * Starts the notifier orchestration of one run event and returns: the run waits for this start
 * (a storage write), never for a receiver. The notifier's id is derived from the run's id and the
 * event's number, so an activity repeated by the host finds the notifier it started and starts
 * no second one.
 */
export const handOffRunEvent = defineActivity(
  'handOffRunEvent',
  async (input: HandOffInput, scope) => {
    const { notify } = config();
    const targets = targetsOf(notify);
    if (targets.length === 0) return { started: false };
    const client = df.getClient(scope.context);
    const instanceId = notifierIdOf(input.instanceId, input.event.sequence);
    if (await findRun(client, instanceId)) return { started: false };
    const notifierInput: NotifierInput = {
      instanceId: input.instanceId,
      event: input.event,
      targets,
      retry: {
        maxAttempts: notify.maxAttempts,
        firstDelayMs: notify.firstRetryMs,
        maxDelayMs: Math.max(notify.firstRetryMs, MAX_RETRY_DELAY_MS),
      },
    };
    await client.startNew(NOTIFY_ORCHESTRATION, { instanceId, input: notifierInput }).catch(async (e: unknown) => {
      // Started meanwhile by a repeat of this activity: that notifier delivers.
      if (!(await findRun(client, instanceId))) throw e;
    });
    scope.log(`event #${input.event.sequence} (${input.event.type}, ${input.event.phase}) handed to ${instanceId}`);
    return { started: true };
  },
  { extraInputs: [df.input.durableClient()] },
);

export interface DeliverInput extends ActivityInput {
  event: RunEventFacts;
  target: Target;
}

/**
 * One delivery attempt of one event to one receiver. The URL, the HMAC secret and the topic key
 * are read here, from the app settings, so none of them is ever in an orchestration's input,
 * output, custom status or history.
 */
export const deliverRunEvent = defineActivity('deliverRunEvent', async (input: DeliverInput, scope) => {
  const { notify } = config();
  registerNotifySecrets(notify);
  const result = await deliver(notify, input.target, runEvent(input.event, notify.statusBaseUrl));
  scope.log(`event #${input.event.sequence} (${input.event.type}): ${result}`);
  return {};
});
