/**
 * The activities that act on one Store submission. Each is a thin call into lib/storeSteps,
 * where the decisions live.
 */
import type { ProductRef } from '../../lib/store/kinds';
import {
  commitOrConfirm,
  createOrAdoptSubmission,
  deleteSubmissionIfPresent,
  discardUncommitted,
  pollStatus,
} from '../../lib/storeSteps';
import { defineActivity, type ActivityInput } from './activity';

export interface SubmissionInput extends ActivityInput {
  product: ProductRef;
  submissionId: string;
}

export interface CreateInput extends ActivityInput {
  product: ProductRef;
  /** The pending submission the run saw before creating (and deleted), so it is never mistaken for the new one. */
  knownPendingId?: string;
}

export interface RolloutInput extends SubmissionInput {
  action: 'halt' | 'finalize';
}

export const deletePendingSubmission = defineActivity(
  'deletePendingSubmission',
  async (input: SubmissionInput, scope) => {
    const correlationIds = await deleteSubmissionIfPresent(scope.store(), input.product, input.submissionId);
    scope.log(`pending submission ${input.submissionId} deleted`);
    return { correlationIds };
  },
);

export const settleRollout = defineActivity('settleRollout', async (input: RolloutInput, scope) => {
  const store = scope.store();
  const result =
    input.action === 'finalize'
      ? await store.finalizePackageRollout(input.product, input.submissionId)
      : await store.haltPackageRollout(input.product, input.submissionId);
  scope.log(`package rollout of ${input.submissionId}: ${input.action}`);
  return { correlationIds: [result.correlationId] };
});

export const createSubmission = defineActivity('createSubmission', async (input: CreateInput, scope) => {
  const created = await createOrAdoptSubmission(scope.store(), input.product, input.knownPendingId);
  scope.log(`submission ${created.submissionId} ${created.adopted ? 'adopted after an ambiguous create' : 'created'}`);
  return created;
});

export const commitSubmission = defineActivity('commitSubmission', async (input: SubmissionInput, scope) => {
  const result = await commitOrConfirm(scope.store(), input.product, input.submissionId);
  scope.log(`submission ${input.submissionId} committed: ${result.status}`);
  return result;
});

export interface StatusInput extends SubmissionInput {
  /** The submission is not the run's own (it waits for it): a 404 means it was deleted, not a failure. */
  othersSubmission?: boolean;
}

export const getSubmissionStatus = defineActivity('getSubmissionStatus', async (input: StatusInput, scope) => {
  return pollStatus(scope.store(), input.product, input.submissionId, input.othersSubmission === true);
});

export interface DiscardInput extends ActivityInput {
  product: ProductRef;
  /** Absent when a canceled run never learned the id of the submission it was creating. */
  submissionId?: string;
}

export const discardSubmission = defineActivity('discardSubmission', async (input: DiscardInput, scope) => {
  const result = await discardUncommitted(scope.store(), input.product, input.submissionId);
  const which = result.submissionId ?? 'none';
  scope.log(
    result.deleted
      ? `submission ${which} deleted`
      : `submission ${which} kept (${result.status ?? 'no pending submission'})`,
  );
  return result;
});
