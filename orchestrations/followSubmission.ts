import * as df from 'durable-functions';
import { boundedFollowerStatus } from '../lib/statusBound';
import { judgeStatus, nextPollInterval, POLLS_PER_EXECUTION } from '../lib/polling';
import type { FollowInput, FollowNotify, FollowResult, StatusPoll, StepRecord } from '../lib/run';
import { getSubmissionStatus } from './activities/storeSubmissionSteps';
import { emitStoreStatusChange } from './notify';
import { logOnce, newRecord, recordedCall } from './tracker';

export interface FollowOrchestrationInput extends FollowInput {
  targetPublishMode?: string;
  firstIntervalSeconds: number;
  maxIntervalSeconds: number;
  /** Who follows: the parent run's instance id, for log lines and activity inputs. */
  runId: string;
  /**
   * The submission is not the run's: it waits for another's pending submission to be published
   * or to fail (lib/pending.ts). Its Release in Manual mode is then no goal, and its deletion
   * (in Partner Center) ends the wait.
   */
  othersSubmission?: boolean;
  correlationIds?: string[];
  /** The run emits events: each new Store status of its submission is one, numbered on from `sent`. */
  notify?: FollowNotify;
}

/** The newest polls' `MS-CorrelationId`s the follower keeps (and carries across continue-as-new). */
const KEPT_CORRELATION_IDS = 5;

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
  let shown: Pick<StatusPoll, 'status' | 'statusDetails'> | undefined;
  /** The current poll's timeline entry: retries and failures show there. */
  let lastStep: StepRecord | undefined;
  const notify = input.notify && !input.othersSubmission ? { ...input.notify } : undefined;
  const publish = (): void =>
    context.df.setCustomStatus(
      boundedFollowerStatus({
        storeStatus: shown?.status,
        statusDetails: shown?.statusDetails,
        polls,
        nextPollAt,
        lastStep,
        notified: notify?.sent,
      }),
    );
  const deadline = new Date(input.deadline);
  let interval = input.intervalSeconds;
  const correlationIds = input.correlationIds ?? [];
  const pollInput = {
    instanceId: input.runId,
    product: input.product,
    submissionId: input.submissionId,
    othersSubmission: input.othersSubmission,
  };

  for (let inThisExecution = 0; ; inThisExecution++) {
    lastStep = newRecord(getSubmissionStatus.activityName, context.df.currentUtcDateTime);
    publish();
    const poll = yield* recordedCall(context, lastStep, getSubmissionStatus, pollInput, (line) => {
      publish();
      logOnce(context, line);
    });
    polls++;
    correlationIds.push(...poll.correlationIds);
    correlationIds.splice(0, Math.max(0, correlationIds.length - KEPT_CORRELATION_IDS));
    if (poll.gone) return { status: poll.status, polls, timedOut: false, gone: true, correlationIds };
    yield* emitStoreStatusChange(context, notify, publish, {
      runId: input.runId,
      product: input.product,
      submissionId: input.submissionId,
      storeStatus: poll.status,
      statusDetails: poll.statusDetails,
    });
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
        notified: notify?.sent,
      };
    }
    interval = nextPollInterval(interval, poll.status, input);
    const fireAt = new Date(Math.min(now.getTime() + interval * 1000, deadline.getTime()));
    shown = poll;
    nextPollAt = fireAt.toISOString();
    publish();
    yield context.df.createTimer(fireAt);
    if (inThisExecution + 1 >= pollsPerExecution) {
      const next: FollowOrchestrationInput = {
        ...input,
        polls,
        intervalSeconds: interval,
        lastStatus: poll.status,
        correlationIds,
        ...(notify ? { notify } : {}),
      };
      context.df.continueAsNew(next);
      return undefined;
    }
  }
}

export const followSubmission = df.app.orchestration('followSubmission', followSubmissionOrchestrator);
