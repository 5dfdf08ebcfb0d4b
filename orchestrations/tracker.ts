import type * as df from 'durable-functions';
import { parseActivityFailure, type ErrorFacts } from '../lib/errors';
import type { RetryPolicy } from '../lib/polling';
import { eventFacts, type RunEventType } from '../lib/notify/event';
import type { FollowNotify, Phase, RunFailure, RunState, StepRecord } from '../lib/run';
import { boundedRunState } from '../lib/statusBound';
import type { Activity, ActivityInput } from './activities/activity';
import { emitRunEvent } from './notify';
import { callActivity, StepFailed } from './retry';

/** A step failed for good, or the run decided to stop; carries what the report needs. */
export class RunStopped extends Error {
  override readonly name = 'RunStopped';
  constructor(readonly failure: RunFailure) {
    super(failure.message);
  }
}

export function stopRun(step: string, message: string, facts: ErrorFacts, advice?: string): RunStopped {
  return new RunStopped({ step, message, advice, facts });
}

/** Turns whatever stopped a run into the failure the status document shows. */
export function failureOf(e: unknown, step: string): RunFailure {
  if (e instanceof RunStopped) return e.failure;
  const parsed = parseActivityFailure(e);
  const { message, name: _name, ...facts } = parsed;
  return { step, message, facts };
}

/** The most a timeline keeps, so custom status stays far under the task hub's size limit. */
const MAX_TIMELINE = 40;

/** Logs once, on first execution, never again on replay. */
export function logOnce(context: df.OrchestrationContext, message: string): void {
  if (!context.df.isReplaying) context.log(`[${context.df.instanceId}] ${message}`);
}

export function newRecord(step: string, at: Date): StepRecord {
  return { step, startedAt: at.toISOString(), result: 'ok' };
}

function addCorrelationIds(record: StepRecord, ids: Array<string | undefined> | undefined): void {
  const known = (ids ?? []).filter((id): id is string => !!id);
  // A retried step keeps the ids of its failed attempts too: support asks for all of them.
  if (known.length > 0) record.correlationIds = [...(record.correlationIds ?? []), ...known];
}

/**
 * Runs one activity through the retry loop (`callActivity`) and keeps `record`, its timeline
 * entry, up to date: retrying, done, failed, with the attempts and every correlation id.
 * `changed` is told each time (to publish the status and log the line). A failure that ends
 * the step becomes a `RunStopped` naming the activity.
 */
export function* recordedCall<I extends ActivityInput, O>(
  context: df.OrchestrationContext,
  record: StepRecord,
  activity: Activity<I, O>,
  input: I,
  changed: (logLine: string) => void,
  policy?: RetryPolicy,
): Generator<df.Task, O, unknown> {
  let attempts = 1;
  let output: O;
  try {
    output = yield* callActivity(
      context,
      activity,
      input,
      {
        retrying: (failure, attempt, delayMs) => {
          attempts = attempt + 1;
          addCorrelationIds(record, [failure.correlationId]);
          record.attempts = attempt;
          record.result = 'retrying';
          record.detail = `attempt ${attempt} failed (${failure.code}): ${failure.message}; next attempt in ${Math.round(delayMs / 1000)} s`;
          changed(record.detail);
        },
      },
      policy,
    );
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    const { message, name: _name, ...facts } = e.failure;
    addCorrelationIds(record, [facts.correlationId]);
    record.attempts = e.attempts;
    record.result = 'failed';
    record.endedAt = context.df.currentUtcDateTime.toISOString();
    record.detail = message;
    changed(`${activity.activityName} failed: ${message}`);
    throw new RunStopped({ step: activity.activityName, message, facts });
  }
  record.endedAt = context.df.currentUtcDateTime.toISOString();
  record.result = 'ok';
  if (attempts > 1) record.attempts = attempts;
  addCorrelationIds(record, (output as { correlationIds?: string[] } | undefined)?.correlationIds);
  delete record.detail;
  changed(`${activity.activityName} done`);
  return output;
}

/**
 * The run's bookkeeping, and nothing else: the phase, the timeline and the custom status
 * (the status document is built from it). Phases read what they need from their inputs and
 * return what they found; they tell the tracker what the status should show. Everything here
 * is replay-safe: time comes from `currentUtcDateTime` and logging happens on first execution.
 */
export class RunTracker {
  private readonly current: RunState;

  constructor(
    private readonly context: df.OrchestrationContext,
    state: RunState,
    /** The run every activity works for: this instance, or the run a cleanup instance finishes. */
    readonly runId: string = context.df.instanceId,
  ) {
    this.current = state;
  }

  /** What the status shows now. Change it through `show`, `enter` and `fail`. */
  get state(): Readonly<RunState> {
    return this.current;
  }

  get now(): Date {
    return this.context.df.currentUtcDateTime;
  }

  /**
   * Publishes the state as custom status, bounded (lib/statusBound.ts): over 16 KB the extension
   * fails the instance. The whole state stays here and goes to the report.
   */
  publish(): void {
    this.context.df.setCustomStatus(boundedRunState(this.current));
  }

  /** Sets (or, with `undefined`, removes) fields of the status and publishes it. */
  show(fields: Partial<Omit<RunState, 'timeline'>>): void {
    const target = this.current as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) delete target[key];
      else target[key] = value;
    }
    this.publish();
  }

  enter(phase: Phase): void {
    this.show({ phase });
  }

  /** Records why the run failed (the status shows it at once); the run still cleans up and reports. */
  fail(e: unknown): RunFailure {
    const failure = failureOf(e, this.current.phase);
    this.show({ failure, outcome: 'Failed' });
    return failure;
  }

  log(message: string): void {
    logOnce(this.context, message);
  }

  /** From here on the run emits events (RunSettings.notify: a receiver is configured). */
  enableNotifications(on: boolean | undefined): void {
    if (on && !this.current.notifications) this.current.notifications = { sent: 0 };
  }

  /**
   * Emits the run event due now, if any: the phase or the Store status changed since the last
   * one, or (`ended`) the run is over. The event is numbered and counted in the status before it
   * is handed off, so whoever goes on from this status (a follower, a cancel's cleanup) numbers
   * on after it. Yielded where the status changes, since handing off is an activity.
   */
  *notify(ended = false): Generator<df.Task, void, unknown> {
    const sent = this.current.notifications;
    if (!sent) return;
    const { phase, storeStatus } = this.current;
    const type: RunEventType | undefined = ended
      ? 'runEnded'
      : phase !== sent.phase
        ? 'phaseChanged'
        : storeStatus !== sent.storeStatus
          ? 'storeStatusChanged'
          : undefined;
    if (!type) return;
    sent.sent++;
    sent.phase = phase;
    sent.storeStatus = storeStatus;
    this.publish();
    yield* emitRunEvent(this.context, eventFacts(this.runId, sent.sent, type, this.now, this.current));
  }

  /** What a follower needs to go on numbering the run's events, or nothing when the run emits none. */
  get notifyContext(): FollowNotify | undefined {
    const sent = this.current.notifications;
    return sent ? { sent: sent.sent, storeStatus: sent.storeStatus } : undefined;
  }

  /** A follower emitted Store status events of its own: count them, and remember the status they told. */
  followed(notified: number | undefined, storeStatus: string | undefined): void {
    const sent = this.current.notifications;
    if (!sent || notified === undefined || notified <= sent.sent) return;
    sent.sent = notified;
    sent.storeStatus = storeStatus;
    this.publish();
  }

  /** A new timeline entry, begun now. */
  record(step: string): StepRecord {
    const record = newRecord(step, this.now);
    const timeline = this.current.timeline;
    timeline.push(record);
    if (timeline.length > MAX_TIMELINE) timeline.splice(1, timeline.length - MAX_TIMELINE);
    return record;
  }

  /**
   * Runs one activity of the run in `phase`, with the retry loop, as a timeline entry named
   * after the activity. The output's type is the activity handle's; the run's id is added to
   * the input. `quiet`: leave no timeline entry (a call repeated while waiting).
   */
  *step<I extends ActivityInput, O>(
    phase: Phase,
    activity: Activity<I, O>,
    input: NoInfer<Omit<I, keyof ActivityInput>>,
    options: { quiet?: boolean } = {},
  ): Generator<df.Task, O, unknown> {
    this.enter(phase);
    yield* this.notify();
    const record = options.quiet ? newRecord(activity.activityName, this.now) : this.record(activity.activityName);
    this.publish();
    const full = { ...input, instanceId: this.runId } as I;
    return yield* recordedCall(this.context, record, activity, full, (line) => {
      this.publish();
      this.log(line);
    });
  }
}
