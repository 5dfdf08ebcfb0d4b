/**
 * Pure decisions of the orchestration: when to poll again, when a Store status means
 * the run is done, and how long to wait before retrying a failed step. Kept apart from
 * the orchestrator so they can be tested exhaustively without a host.
 */
import type { SubmissionStatus } from './store/types';

export type WaitFor = 'commit' | 'published';

export type StatusVerdict =
  | { verdict: 'wait' }
  | { verdict: 'done' }
  | { verdict: 'failed'; reason: string; advice: string }
  /** CommitStarted fell back to PendingCommit: the Store's commit failed on its side. */
  | { verdict: 'commitFellBack'; reason: string; advice: string };

const FAILED: Partial<Record<SubmissionStatus, string>> = {
  CommitFailed: 'The Store could not process the commit',
  PreProcessingFailed: 'The Store rejected the packages during pre-processing',
  CertificationFailed: 'The submission failed certification',
  ReleaseFailed: 'The Store could not release the submission',
  PublishFailed: 'The Store could not publish the submission',
  Canceled: 'The submission was canceled in the Store',
};

const ADVICE: Partial<Record<SubmissionStatus, string>> = {
  CommitFailed:
    'Check the errors below (MissingFiles: a fileName in submission.json is not in the zip; InvalidArchive: the zip is damaged), fix the zip and upload it again.',
  PreProcessingFailed: 'Check the package validation errors below, rebuild the packages and upload a new zip.',
  CertificationFailed: 'Read the certification report linked below, fix what it names and upload a new zip.',
  ReleaseFailed: 'Open the submission in Partner Center; if it cannot be released, upload a new zip.',
  PublishFailed: 'Open the submission in Partner Center; if it cannot be published, upload a new zip.',
  Canceled: 'Someone canceled the submission in Partner Center; upload the zip again to submit anew.',
};

/** Statuses that come after commit processing has ended successfully. */
const PAST_COMMIT: ReadonlySet<SubmissionStatus> = new Set<SubmissionStatus>([
  'PreProcessing',
  'Certification',
  'Release',
  'PendingPublication',
  'Publishing',
  'Published',
]);

/**
 * Whether the Store holds the submission as committed. PendingCommit (commit not taken, or
 * fallen back) and CommitFailed are still ours to delete; anything else belongs to the Store.
 */
export function isCommitted(status: SubmissionStatus): boolean {
  return status !== 'PendingCommit' && status !== 'CommitFailed';
}

export function judgeStatus(
  status: SubmissionStatus,
  waitFor: WaitFor,
  targetPublishMode: string | undefined,
  sawCommitStarted: boolean,
): StatusVerdict {
  const failed = FAILED[status];
  if (failed) return { verdict: 'failed', reason: `${failed} (status ${status}).`, advice: ADVICE[status] ?? '' };
  if (status === 'PendingCommit' && sawCommitStarted) {
    return {
      verdict: 'commitFellBack',
      reason:
        'The Store started the commit and then returned the submission to PendingCommit: the commit failed on its side.',
      advice:
        'Upload the zip again to retry; if it keeps happening, contact Microsoft support with the correlation ids below.',
    };
  }
  if (waitFor === 'commit') return PAST_COMMIT.has(status) ? { verdict: 'done' } : { verdict: 'wait' };
  if (status === 'Published') return { verdict: 'done' };
  // Manual and SpecificDate submissions stop in Release until someone (or the date) publishes them.
  if (status === 'Release' && (targetPublishMode === 'Manual' || targetPublishMode === 'SpecificDate')) {
    return { verdict: 'done' };
  }
  return { verdict: 'wait' };
}

export interface PollSchedule {
  firstIntervalSeconds: number;
  maxIntervalSeconds: number;
}

/**
 * The next poll interval: grows by half each time up to the maximum. While the commit is
 * being processed (minutes) it stays short; certification takes hours to days, so there
 * it may stretch to the maximum. Either way one run makes at most a couple of calls a
 * minute, far under the Store's 20 per minute per tenant.
 */
export function nextPollInterval(
  previousSeconds: number,
  status: SubmissionStatus | undefined,
  schedule: PollSchedule,
): number {
  const grown = previousSeconds <= 0 ? schedule.firstIntervalSeconds : Math.ceil(previousSeconds * 1.5);
  const cap =
    status === 'CommitStarted' || status === 'PendingCommit' || status === undefined
      ? Math.min(schedule.maxIntervalSeconds, Math.max(schedule.firstIntervalSeconds, 120))
      : schedule.maxIntervalSeconds;
  return Math.max(1, Math.min(grown, cap));
}

export interface RetryPolicy {
  maxAttempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export const STEP_RETRY: RetryPolicy = { maxAttempts: 8, firstDelayMs: 5_000, maxDelayMs: 5 * 60_000 };

/** Delay before attempt `attempt + 1` (attempt counts from 1), or undefined when the step should give up. */
export function retryDelayMs(
  attempt: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy = STEP_RETRY,
): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  const backoff = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1));
  return Math.max(backoff, retryAfterMs ?? 0);
}

/** Polls in one execution of the follower before it continues as new, which bounds its history. */
export const POLLS_PER_EXECUTION = 20;
