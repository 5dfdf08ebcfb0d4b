import type * as df from 'durable-functions';
import {
  APPROVAL_EVENT,
  approvalDeadline,
  isDecision,
  partnerCenterUrl,
  type ApprovalDecision,
  type ApprovalView,
} from '../../lib/approval';
import { SETTINGS } from '../../lib/config';
import type { RunSettings } from '../activities/getRunSettings';
import { discardSubmission } from '../activities/storeSubmissionSteps';
import { stopRun, type RunTracker } from '../tracker';
import type { Draft } from './draft';

/** The setting's default (lib/config.ts), for a run whose settings were read before the setting existed. */
const DEFAULT_TIMEOUT_HOURS = 72;

/**
 * The approval gate, between upload and commit: the status says AwaitingApproval with the
 * preview and the Partner Center link, and the run waits, holding nothing, for the first of a
 * decision (the `approval` external event the approve and reject routes raise) and a durable
 * timer at the deadline. Approved: returns true and the run commits. Rejected: deletes the
 * submission, returns false, and the run ends Rejected. Timed out: throws, and the caller's
 * `orDiscard` deletes the submission and fails the run, saying why.
 */
export function* awaitApproval(
  context: df.OrchestrationContext,
  run: RunTracker,
  settings: RunSettings,
  draft: Draft,
): Generator<df.Task, boolean, unknown> {
  const hours = settings.approvalTimeoutHours ?? DEFAULT_TIMEOUT_HOURS;
  const requestedAt = run.now;
  const deadline = approvalDeadline(requestedAt, hours);
  const view: ApprovalView = {
    state: 'Waiting',
    requestedAt: requestedAt.toISOString(),
    deadline: deadline.toISOString(),
    partnerCenterUrl: partnerCenterUrl(draft.product, draft.submissionId),
  };
  run.enter('AwaitingApproval');
  const record = run.record('awaitApproval');
  record.detail = `waiting for approve or reject until ${view.deadline}`;
  run.show({ approval: view });
  run.log(`submission ${draft.submissionId} awaits approval until ${view.deadline}`);
  yield* run.notify();

  const decided = context.df.waitForExternalEvent(APPROVAL_EVENT);
  const timeout = context.df.createTimer(deadline);
  const winner = yield context.df.Task.any([decided, timeout]);
  // Only a decision the routes made can approve: any other payload raised by hand is read as a rejection.
  const decision: ApprovalDecision | undefined =
    winner === timeout
      ? undefined
      : isDecision(decided.result)
        ? decided.result
        : {
            approved: false,
            by: 'unknown',
            at: run.now.toISOString(),
            comment: 'the approval event carried no decision',
          };
  record.endedAt = run.now.toISOString();

  if (!decision) {
    record.result = 'failed';
    record.detail = `no decision by ${view.deadline}`;
    run.show({ approval: { ...view, state: 'TimedOut' } });
    throw stopRun(
      'awaitApproval',
      `No one approved or rejected submission ${draft.submissionId} within ${hours} hours (${SETTINGS.approvalTimeoutHours}), so the run deleted it; nothing was committed.`,
      { code: 'ApprovalTimedOut', retriable: false },
      `Submit the zip again (or start its run again) and approve it in time, or raise ${SETTINGS.approvalTimeoutHours}.`,
    );
  }
  timeout.cancel();
  const who = `${decision.approved ? 'approved' : 'rejected'} by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`;
  record.detail = who;
  run.show({ approval: { ...view, state: decision.approved ? 'Approved' : 'Rejected', decision } });
  run.log(`submission ${draft.submissionId} ${who}`);
  if (decision.approved) return true;

  yield* run.step('CleaningUp', discardSubmission, { product: draft.product, submissionId: draft.submissionId });
  run.show({ outcome: 'Rejected' });
  return false;
}
