import type * as df from 'durable-functions';
import { parseActivityFailure, type ActivityFailure, type ErrorFacts } from '../lib/errors';
import { retryDelayMs } from '../lib/polling';
import type { Phase, RunFailure, RunState, StepRecord } from '../lib/run';

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

/** The most a timeline keeps, so custom status stays far under the task hub's size limit. */
const MAX_TIMELINE = 40;

/**
 * The orchestrator's bookkeeping: the phase, the timeline and the custom status, and the
 * retry loop around each step. Everything here is replay-safe: time comes from
 * `currentUtcDateTime`, waits are durable timers, and logging happens only on first execution.
 */
export class RunTracker {
  constructor(
    private readonly context: df.OrchestrationContext,
    readonly state: RunState,
    /** What custom status shows; the whole state unless the orchestrator shows less. */
    private readonly view: (state: RunState) => unknown = (s) => s,
  ) {}

  get now(): Date {
    return this.context.df.currentUtcDateTime;
  }

  publish(): void {
    this.context.df.setCustomStatus(this.view(this.state));
  }

  enter(phase: Phase): void {
    this.state.phase = phase;
    this.publish();
  }

  log(message: string): void {
    if (!this.context.df.isReplaying) this.context.log(`[${this.context.df.instanceId}] ${message}`);
  }

  record(step: string): StepRecord {
    const record: StepRecord = { step, startedAt: this.now.toISOString(), result: 'ok' };
    this.state.timeline.push(record);
    if (this.state.timeline.length > MAX_TIMELINE)
      this.state.timeline.splice(1, this.state.timeline.length - MAX_TIMELINE);
    return record;
  }

  /**
   * Runs one activity, retrying failures that say a retry can help after a durable timer
   * (the Store's `Retry-After` when it gave one, exponential backoff otherwise). A failure
   * that says the request itself is wrong stops at once.
   */
  *step<O>(
    phase: Phase,
    name: string,
    schedule: () => df.Task,
    /** `quiet`: leave no timeline entry (a call repeated while waiting). */
    options: { retry?: boolean; quiet?: boolean } = {},
  ): Generator<df.Task, O, unknown> {
    this.enter(phase);
    const record: StepRecord = options.quiet
      ? { step: name, startedAt: this.now.toISOString(), result: 'ok' }
      : this.record(name);
    this.publish();
    for (let attempt = 1; ; attempt++) {
      let failure: ActivityFailure;
      try {
        const output = (yield schedule()) as O;
        record.endedAt = this.now.toISOString();
        record.result = 'ok';
        if (attempt > 1) record.attempts = attempt;
        const ids = (output as { correlationIds?: string[] } | undefined)?.correlationIds;
        // A retried step keeps the ids of its failed attempts too: support asks for all of them.
        if (ids?.length) record.correlationIds = [...(record.correlationIds ?? []), ...ids];
        delete record.detail;
        this.publish();
        this.log(`${name} done`);
        return output;
      } catch (e) {
        if (e instanceof RunStopped) throw e;
        failure = parseActivityFailure(e);
      }
      const delay =
        options.retry === false || !failure.retriable ? undefined : retryDelayMs(attempt, failure.retryAfterMs);
      if (failure.correlationId) record.correlationIds = [...(record.correlationIds ?? []), failure.correlationId];
      record.attempts = attempt;
      if (delay === undefined) {
        record.result = 'failed';
        record.endedAt = this.now.toISOString();
        record.detail = failure.message;
        this.publish();
        this.log(`${name} failed: ${failure.message}`);
        const { message, name: _name, ...facts } = failure;
        throw new RunStopped({ step: name, message, facts });
      }
      record.result = 'retrying';
      record.detail = `attempt ${attempt} failed (${failure.code}): ${failure.message}; next attempt in ${Math.round(delay / 1000)} s`;
      this.publish();
      this.log(record.detail);
      yield this.context.df.createTimer(new Date(this.now.getTime() + delay));
    }
  }
}

/** Turns whatever stopped a run into the failure the status document shows. */
export function failureOf(e: unknown, step: string): RunFailure {
  if (e instanceof RunStopped) return e.failure;
  const parsed = parseActivityFailure(e);
  const { message, name: _name, ...facts } = parsed;
  return { step, message, facts };
}
