/**
 * What a run does about the product's pending submission, decided from its Store status alone.
 *
 * The Store refuses to delete a submission it is processing: from CommitStarted through
 * Publishing, and in Release while it waits for a manual publish, DELETE answers 409
 * "Submission in its current state cannot be deleted" (delete-an-app-submission.md;
 * Iktahana/illusions#1349). Deleting it would in any case destroy a release in certification.
 * So a run never deletes one: by default it waits (on durable timers) until that submission
 * is published or fails, then goes on; with `options.pendingSubmission: "fail"` it stops at
 * once and says why. What is still editable (PendingCommit) or finished badly (the `*Failed`
 * statuses, Canceled) can be deleted, and is, unless the user said "fail".
 *
 * A submission waiting in Release for a manual publish (targetPublishMode Manual, or a
 * SpecificDate not reached) is waited for too: only a person in Partner Center can publish it
 * ("publish now" has no API) or delete it, and the run goes on as soon as one does. The wait is
 * bounded by the run's deadline for waiting (PUBLISH_DEADLINE_HOURS), after which it fails
 * saying what it waited for; the status says all along that it waits for a person.
 */
import { StoreOutcomeError } from './errors';
import type { SubmissionStatus } from './store/types';

/** Statuses in which the Store is processing a submission: it cannot be deleted, only waited for. */
export const PROCESSING: ReadonlySet<SubmissionStatus> = new Set<SubmissionStatus>([
  'CommitStarted',
  'PreProcessing',
  'Certification',
  'Release',
  'PendingPublication',
  'Publishing',
]);

/** Final statuses of a submission that did not make it: it stays pending until deleted, and can be. */
const ENDED_BADLY: ReadonlySet<SubmissionStatus> = new Set<SubmissionStatus>([
  'CommitFailed',
  'PreProcessingFailed',
  'CertificationFailed',
  'ReleaseFailed',
  'PublishFailed',
  'Canceled',
]);

export interface PendingFacts {
  submissionId: string;
  status: SubmissionStatus;
  /** Made in Partner Center: the API can neither change nor delete it. */
  madeInPortal?: boolean;
  /** Its targetPublishMode, when known: Manual (or SpecificDate) means Release waits for a person or a date. */
  targetPublishMode?: string;
  /** The run just created the product (a flight comes with a pending submission of its own): ours to replace. */
  createdWithProduct?: boolean;
}

export type PendingDecision =
  /** Nothing pending, or it was published meanwhile: go on and create. */
  | { action: 'none' }
  /** Editable or ended: delete it, then create. */
  | { action: 'delete' }
  /** The Store is processing it: wait, and say what for. */
  | { action: 'wait'; waitingFor: string }
  | { action: 'fail'; error: StoreOutcomeError };

export interface PendingOptions {
  pendingSubmission?: 'replace' | 'fail';
  dryRun?: boolean;
}

export function decidePending(pending: PendingFacts | undefined, options: PendingOptions): PendingDecision {
  if (!pending || pending.status === 'Published') return { action: 'none' };
  const { submissionId, status } = pending;
  const processing = PROCESSING.has(status);
  if (pending.createdWithProduct && status === 'PendingCommit') return { action: 'delete' };
  // A dry run deletes nothing and has nothing to validate against while another submission is pending.
  if (options.dryRun) return { action: 'fail', error: dryRunBlocked(submissionId) };
  if (options.pendingSubmission === 'fail') {
    return { action: 'fail', error: pendingRefused(pending, processing) };
  }
  if (processing) return { action: 'wait', waitingFor: waitingFor(pending) };
  if (pending.madeInPortal) {
    return {
      action: 'fail',
      error: new StoreOutcomeError(
        `The pending submission ${submissionId} (Store status ${status}) was created in Partner Center, and the Store API cannot delete it. ` +
          'Delete it in Partner Center (or finish it there), then upload the zip again.',
        'PendingSubmissionMadeInPortal',
      ),
    };
  }
  if (status === 'PendingCommit' || ENDED_BADLY.has(status)) return { action: 'delete' };
  // A status the API documents but that says nothing here (None): leave it alone, say so.
  return {
    action: 'fail',
    error: new StoreOutcomeError(
      `The pending submission ${submissionId} is in Store status ${status}, which the run does not know how to handle; nothing was changed. Finish or delete it in Partner Center, then upload the zip again.`,
      'PendingSubmissionExists',
    ),
  };
}

/** Whether a person (not time) must act before the submission moves on: Release in Manual mode. */
export function waitsForPerson(pending: PendingFacts): boolean {
  return pending.status === 'Release' && pending.targetPublishMode === 'Manual';
}

/** What the status document says the run waits for. */
export function waitingFor(pending: PendingFacts): string {
  const who = waitsForPerson(pending)
    ? 'which waits in Release for someone to publish it in Partner Center (Manual publish mode; the API cannot publish it)'
    : pending.status === 'Release' && pending.targetPublishMode === 'SpecificDate'
      ? 'which waits in Release for its publish date'
      : 'which the Store is processing and does not let anyone delete';
  return `the pending submission ${pending.submissionId} (Store status ${pending.status}), ${who}, to be published or to fail`;
}

/** The run waited for the pending submission until its deadline. */
export function pendingWaitExpired(pending: PendingFacts, deadline: string): StoreOutcomeError {
  const advice = waitsForPerson(pending)
    ? 'Publish it (or delete it) in Partner Center, then upload the zip again.'
    : 'Check it in Partner Center; once it is published or has failed, upload the zip again. Raise PUBLISH_DEADLINE_HOURS to wait longer.';
  return new StoreOutcomeError(
    `The run waited until its deadline (${deadline}) for ${waitingFor(pending)}, and it is still ${pending.status}. Nothing was created. ${advice}`,
    'PendingSubmissionStillProcessing',
  );
}

function pendingRefused(pending: PendingFacts, processing: boolean): StoreOutcomeError {
  const where = pending.madeInPortal ? 'made in Partner Center' : 'made through the API';
  let advice: string;
  if (processing) {
    advice =
      'The Store is processing it and refuses to delete it, so "replace" (the default) would wait until it is published or fails, then submit this zip. ' +
      'Set options.pendingSubmission to "replace" to wait, or upload the zip again once it is done.';
  } else if (pending.madeInPortal) {
    advice =
      'The Store API cannot delete it: delete it in Partner Center (or finish it there), then upload the zip again.';
  } else {
    advice = 'Delete or finish that submission, or set options.pendingSubmission to "replace".';
  }
  return new StoreOutcomeError(
    `The product already has a pending submission (${pending.submissionId}, ${where}, Store status ${pending.status}) and submission.json options.pendingSubmission is "fail". ${advice}`,
    'PendingSubmissionExists',
  );
}

/** A dry run deletes nothing of the user's, and the Store allows one pending submission per product. */
export function dryRunBlocked(submissionId: string): StoreOutcomeError {
  return new StoreOutcomeError(
    `The product has a pending submission (${submissionId}); a dry run deletes nothing, and the Store allows only one pending submission, so there is nothing to validate against. ` +
      'Finish or delete that submission, then run the dry run again.',
    'PendingSubmissionExists',
  );
}
