import * as df from 'durable-functions';
import { judgeStatus, nextPollInterval, POLLS_PER_EXECUTION } from '../lib/polling';
import type { FollowInput, FollowResult, StatusPoll } from '../lib/run';
import { getSubmissionStatus } from './activities/storeSubmissionSteps';
import { RunTracker } from './run';

export interface FollowOrchestrationInput extends FollowInput {
  targetPublishMode?: string;
  firstIntervalSeconds: number;
  maxIntervalSeconds: number;
  /** Who follows: the parent run's instance id, for log lines and activity inputs. */
  runId: string;
  correlationIds?: string[];
}

/**
 * Polls the Store status of a committed submission on durable timers until the run's goal
 * is reached, the submission fails, or the deadline passes. Certification can take days:
 * to keep each execution's history (and so every replay) small, it continues as new after
 * a fixed number of polls, carrying its state in its input.
 */
export function followSubmissionOrchestrator(
  context: df.OrchestrationContext,
): Generator<df.Task, FollowResult | undefined, unknown> {
  return follow(context, POLLS_PER_EXECUTION);
}

/**
 * The polling loop. `pollsPerExecution` bounds each execution's history; the benchmarks run
 * the same loop with it unbounded (the naive way) to measure what continuing as new saves.
 */
export function* follow(
  context: df.OrchestrationContext,
  pollsPerExecution: number,
): Generator<df.Task, FollowResult | undefined, unknown> {
  const input = context.df.getInput<FollowOrchestrationInput>();
  let polls = input.polls;
  let nextPollAt: string | undefined;
  const tracker = new RunTracker(
    context,
    { phase: 'WaitingForStore', blob: { container: '', name: '', etag: '' }, timeline: [] },
    (state) => ({
      storeStatus: state.storeStatus,
      statusDetails: state.statusDetails,
      polls,
      nextPollAt,
      lastStep: state.timeline.at(-1),
    }),
  );
  const deadline = new Date(input.deadline);
  let interval = input.intervalSeconds;
  const correlationIds = input.correlationIds ?? [];

  for (let inThisExecution = 0; ; inThisExecution++) {
    const poll: StatusPoll = yield* tracker.step<StatusPoll>('WaitingForStore', 'getSubmissionStatus', () =>
      getSubmissionStatus({ instanceId: input.runId, product: input.product, submissionId: input.submissionId }),
    );
    polls++;
    correlationIds.splice(0, Math.max(0, correlationIds.length - 4), ...poll.correlationIds);
    const verdict = judgeStatus(poll.status, input.waitFor, input.targetPublishMode, true);
    const now = context.df.currentUtcDateTime;
    const finished = verdict.verdict !== 'wait' || now >= deadline;
    if (finished) {
      return {
        status: poll.status,
        statusDetails: poll.statusDetails,
        polls,
        timedOut: verdict.verdict === 'wait',
        correlationIds,
      };
    }
    interval = nextPollInterval(interval, poll.status, input);
    const fireAt = new Date(Math.min(now.getTime() + interval * 1000, deadline.getTime()));
    tracker.state.storeStatus = poll.status;
    tracker.state.statusDetails = poll.statusDetails;
    nextPollAt = fireAt.toISOString();
    tracker.publish();
    yield context.df.createTimer(fireAt);
    if (inThisExecution + 1 >= pollsPerExecution) {
      const next: FollowOrchestrationInput = {
        ...input,
        polls,
        intervalSeconds: interval,
        lastStatus: poll.status,
        correlationIds,
      };
      context.df.continueAsNew(next);
      return undefined;
    }
  }
}

export const followSubmission = df.app.orchestration('followSubmission', followSubmissionOrchestrator);
