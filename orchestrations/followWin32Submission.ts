import * as df from 'durable-functions';
import { boundedFollowerStatus } from '../lib/statusBound';
import { nextPollInterval, POLLS_PER_EXECUTION } from '../lib/polling';
import type { FollowNotify, FollowResult, StepRecord } from '../lib/run';
import type { Win32PublishingStatus } from '../lib/store/win32Types';
import { judgeWin32Status } from '../lib/win32/polling';
import type { SubmissionPoll } from '../lib/win32/steps';
import { getWin32SubmissionStatus } from './activities/win32';
import { emitStoreStatusChange } from './notify';
import { logOnce, newRecord, recordedCall } from './tracker';

export const FOLLOW_WIN32_ORCHESTRATION = 'followWin32Submission';

export interface Win32FollowInput {
  /** The run this follows for: its id goes into activity inputs and log lines. */
  runId: string;
  productId: string;
  submissionId: string;
  /** commit: the Store has taken it (INPROGRESS); published: PUBLISHED; ended: PUBLISHED or FAILED, whoever's it is. */
  waitFor: 'commit' | 'published' | 'ended';
  /** ISO time after which following stops. */
  deadline: string;
  polls: number;
  intervalSeconds: number;
  firstIntervalSeconds: number;
  maxIntervalSeconds: number;
  correlationIds?: string[];
  /** The run emits events and this is its own submission: each new publishing status is one, numbered on from `sent`. */
  notify?: FollowNotify;
}

export interface Win32FollowResult extends Omit<FollowResult, 'status'> {
  status: Win32PublishingStatus;
  hasFailed: boolean;
}

/** The newest polls' correlation ids kept (and carried across continue-as-new), as followSubmission keeps. */
const KEPT_CORRELATION_IDS = 5;

/** Whether polling may stop: the goal is reached, or the submission has failed. */
function finished(poll: SubmissionPoll, waitFor: Win32FollowInput['waitFor']): boolean {
  if (waitFor === 'ended')
    return poll.hasFailed || poll.publishingStatus === 'PUBLISHED' || poll.publishingStatus === 'FAILED';
  return judgeWin32Status(poll, waitFor).verdict !== 'wait';
}

/**
 * Polls an MSI/EXE submission's status on durable timers until the goal, its failure or the
 * deadline, continuing as new every POLLS_PER_EXECUTION polls so a certification of days keeps a
 * small history, as followSubmission does for the v1.0 API. Its custom status has the shape the
 * status endpoint reads from a follower.
 */
export function* followWin32SubmissionOrchestrator(
  context: df.OrchestrationContext,
): Generator<df.Task, Win32FollowResult | undefined, unknown> {
  const input = context.df.getInput<Win32FollowInput>();
  let polls = input.polls;
  let nextPollAt: string | undefined;
  let shown: SubmissionPoll | undefined;
  let lastStep: StepRecord | undefined;
  const statusDetailsOf = (poll: SubmissionPoll) => ({ errors: poll.errors, warnings: [], certificationReports: [] });
  const notify = input.notify ? { ...input.notify } : undefined;
  const publish = (): void =>
    context.df.setCustomStatus(
      boundedFollowerStatus({
        storeStatus: shown?.publishingStatus,
        statusDetails: shown ? statusDetailsOf(shown) : undefined,
        polls,
        nextPollAt,
        lastStep,
        notified: notify?.sent,
      }),
    );
  const deadline = new Date(input.deadline);
  let interval = input.intervalSeconds;
  const correlationIds = input.correlationIds ?? [];
  const pollInput = { instanceId: input.runId, productId: input.productId, submissionId: input.submissionId };

  for (let inThisExecution = 0; ; inThisExecution++) {
    lastStep = newRecord(getWin32SubmissionStatus.activityName, context.df.currentUtcDateTime);
    publish();
    const poll = yield* recordedCall(context, lastStep, getWin32SubmissionStatus, pollInput, (line) => {
      publish();
      logOnce(context, line);
    });
    polls++;
    correlationIds.push(...poll.correlationIds);
    correlationIds.splice(0, Math.max(0, correlationIds.length - KEPT_CORRELATION_IDS));
    yield* emitStoreStatusChange(context, notify, publish, {
      runId: input.runId,
      product: { kind: 'win32', productId: input.productId },
      submissionId: input.submissionId,
      storeStatus: poll.publishingStatus,
      statusDetails: statusDetailsOf(poll),
    });
    const now = context.df.currentUtcDateTime;
    const done = finished(poll, input.waitFor);
    if (done || now >= deadline) {
      return {
        status: poll.publishingStatus,
        hasFailed: poll.hasFailed,
        statusDetails: statusDetailsOf(poll),
        polls,
        timedOut: !done,
        correlationIds,
        notified: notify?.sent,
      };
    }
    // UNKNOWN right after submit clears within minutes; certification and publishing take hours to days.
    interval = nextPollInterval(
      interval,
      poll.publishingStatus === 'UNKNOWN' ? 'CommitStarted' : 'Certification',
      input,
    );
    const fireAt = new Date(Math.min(now.getTime() + interval * 1000, deadline.getTime()));
    shown = poll;
    nextPollAt = fireAt.toISOString();
    publish();
    yield context.df.createTimer(fireAt);
    if (inThisExecution + 1 >= POLLS_PER_EXECUTION) {
      context.df.continueAsNew({ ...input, polls, intervalSeconds: interval, correlationIds, notify });
      return undefined;
    }
  }
}

export const followWin32Submission = df.app.orchestration(
  FOLLOW_WIN32_ORCHESTRATION,
  followWin32SubmissionOrchestrator,
);
