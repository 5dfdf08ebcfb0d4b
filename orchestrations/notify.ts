import * as df from 'durable-functions';
import { eventFacts, type RunEventFacts } from '../lib/notify/event';
import type { RetryPolicy } from '../lib/polling';
import type { DeliveryRecord, FollowNotify, NotifierView, RunState, StepRecord } from '../lib/run';
import { deliverRunEvent, handOffRunEvent, NOTIFY_ORCHESTRATION, type NotifierInput } from './activities/notify';
import { callActivity, StepFailed } from './retry';
import { logOnce, newRecord, recordedCall, RunStopped } from './tracker';

/**
 * Run events: how a run tells webhooks and an Event Grid topic about every change of phase and
 * Store status, and its end, without ever waiting for a receiver.
 *
 * The design, and why:
 * - The run (and its follower, which sees the Store status change) hands each event to a notifier
 *   orchestration of its own, started by an activity holding a durable client (`handOffRunEvent`),
 *   and goes on. Retries awaited in the run itself, even durable ones, would hold the run for as
 *   long as a receiver is down.
 * - Not a sub-orchestration scheduled and left un-yielded: durable-functions 3.5.0 schedules a task
 *   only when the orchestrator yields it (TaskOrchestrationExecutor.resumeUserCode adds its action
 *   on yield, `addToActions`), so an un-yielded callSubOrchestrator is never sent. Yielding it inside
 *   Task.any with an immediate timer would schedule it, but makes the notifier a child whose
 *   completion lands on a parent that has moved on or ended.
 * - The notifier retries each receiver with the orchestration's own loop (`callActivity`, durable
 *   timers, exponential backoff from NOTIFY_RETRY_FIRST_SECONDS, NOTIFY_MAX_ATTEMPTS) rather than
 *   durable's callActivityWithRetry: that one retries a 401 or a 410 (a wrong secret, a removed
 *   hook) as it retries a 503, ignores a receiver's Retry-After, and cannot say which attempt it is
 *   on, which the timeline shows.
 * - Each event is numbered (`sequence`, and the id `<runId>-<sequence>`): notifiers run side by
 *   side and a receiver down for a while gets them out of order, so receivers order by number.
 * - What each receiver got is the notifier's custom status; the run's status endpoint reads the
 *   run's notifiers (their ids are `<runId>-notify-<n>`, n up to the count the run keeps) and shows
 *   them in the timeline, delivered, retrying or given up.
 */

/** Handing off is a storage write: a few quick tries, then the event is left out (and logged); the run goes on. */
const HANDOFF_RETRY: RetryPolicy = { maxAttempts: 3, firstDelayMs: 2_000, maxDelayMs: 10_000 };

/** Hands one event to its notifier; never throws for a failed hand-off, so no event can fail a run. */
export function* emitRunEvent(
  context: df.OrchestrationContext,
  event: RunEventFacts,
): Generator<df.Task, void, unknown> {
  try {
    yield* callActivity(context, handOffRunEvent, { instanceId: event.runId, event }, {}, HANDOFF_RETRY);
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    logOnce(
      context,
      `event #${event.sequence} (${event.type}) could not be handed to a notifier: ${e.failure.message}`,
    );
  }
}

/**
 * A follower saw the Store status `change.storeStatus`: when it differs from the last one told,
 * the run's next event says so. The count goes into the custom status (`publish`) before the
 * hand-off, because the status endpoint reads the run's notifiers 1..sent.
 */
export function* emitStoreStatusChange(
  context: df.OrchestrationContext,
  notify: FollowNotify | undefined,
  publish: () => void,
  change: { runId: string } & Pick<RunState, 'product' | 'submissionId' | 'storeStatus' | 'statusDetails'>,
): Generator<df.Task, void, unknown> {
  if (!notify || change.storeStatus === notify.storeStatus) return;
  notify.sent++;
  notify.storeStatus = change.storeStatus;
  publish();
  const { runId, ...state } = change;
  yield* emitRunEvent(
    context,
    eventFacts(runId, notify.sent, 'storeStatusChanged', context.df.currentUtcDateTime, {
      ...state,
      phase: 'WaitingForStore',
    }),
  );
}

function summary(event: RunEventFacts): string {
  const status = event.storeStatus ? `, Store status ${event.storeStatus}` : '';
  return `event #${event.sequence}: ${event.type === 'runEnded' ? `ended ${event.outcome ?? event.phase}` : event.phase}${status}`;
}

function deliveryLine(d: DeliveryRecord): string {
  switch (d.result) {
    case 'delivered':
      return `${d.target} delivered${d.attempts > 1 ? ` on attempt ${d.attempts}` : ''}`;
    case 'givenUp':
      return `${d.target} given up after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}: ${d.detail ?? ''}`;
    case 'retrying':
      return `${d.target} retrying: ${d.detail ?? ''}`;
    default:
      return `${d.target} pending`;
  }
}

/**
 * Delivers one run event to every receiver, one after the other, each with retries and backoff;
 * a receiver given up on is recorded and the next one is tried. Deterministic: time from
 * currentUtcDateTime, I/O in activities.
 */
export function* notifyRunEventOrchestrator(
  context: df.OrchestrationContext,
): Generator<df.Task, NotifierView, unknown> {
  const input = context.df.getInput<NotifierInput>();
  const { event } = input;
  const record: StepRecord = {
    ...newRecord(`notify:${event.type}`, context.df.currentUtcDateTime),
    sequence: event.sequence,
    deliveries: input.targets.map((target) => ({ target, result: 'pending', attempts: 0 })),
  };
  const view: NotifierView = { runId: input.instanceId, sequence: event.sequence, record };
  const publish = (): void => {
    record.detail = `${summary(event)}; ${record.deliveries!.map(deliveryLine).join('; ')}`;
    context.df.setCustomStatus(view);
  };
  publish();
  for (const delivery of record.deliveries!) {
    const attempt = newRecord(deliverRunEvent.activityName, context.df.currentUtcDateTime);
    const deliverInput = {
      instanceId: input.instanceId,
      event,
      target: delivery.target as NotifierInput['targets'][number],
    };
    try {
      yield* recordedCall(
        context,
        attempt,
        deliverRunEvent,
        deliverInput,
        (line) => {
          if (attempt.result === 'retrying') {
            delivery.result = 'retrying';
            delivery.attempts = attempt.attempts ?? 1;
            delivery.detail = attempt.detail;
            publish();
          }
          logOnce(context, `event #${event.sequence} to ${delivery.target}: ${line}`);
        },
        input.retry,
      );
      delivery.result = 'delivered';
      delivery.attempts = attempt.attempts ?? 1;
      delete delivery.detail;
    } catch (e) {
      if (!(e instanceof RunStopped)) throw e;
      delivery.result = 'givenUp';
      delivery.attempts = attempt.attempts ?? 1;
      delivery.detail = e.failure.message;
    }
    delivery.endedAt = context.df.currentUtcDateTime.toISOString();
    publish();
  }
  record.endedAt = context.df.currentUtcDateTime.toISOString();
  record.result = record.deliveries!.every((d) => d.result === 'delivered') ? 'ok' : 'failed';
  publish();
  return view;
}

export const notifyRunEvent = df.app.orchestration(NOTIFY_ORCHESTRATION, notifyRunEventOrchestrator);
