import { changeOf, rampStepDecision, type RampStep } from '../../lib/ramp';
import { applyRolloutChange, rolloutStatusOf } from '../../lib/rollout';
import type { ProductRef } from '../../lib/store/kinds';
import { defineActivity, type ActivityInput } from './activity';

export interface RampStepInput extends ActivityInput {
  product: ProductRef;
  submissionId: string;
  /** The step to apply, or `halt` to stop the rollout. */
  step: RampStep | 'halt';
  /** The percentage the ramp set last: anything else means someone changed the rollout by hand. */
  expected: number;
}

export interface RampStepResult {
  outcome: 'applied' | 'done' | 'changedOutside';
  percentage: number;
  status: string;
  correlationIds: string[];
}

/**
 * One step of a ramp (or its halt), safe to repeat: the rollout is read first, so a step an
 * earlier attempt applied is not applied twice (the Store's update is not idempotent), and a
 * rollout someone changed by hand is left as it is.
 */
export const rampStep = defineActivity('rampStep', async (input: RampStepInput, scope): Promise<RampStepResult> => {
  const store = scope.store();
  const read = await store.getPackageRollout(input.product, input.submissionId);
  const ids = [read.correlationId];
  const current = read.value ?? {};
  const decision =
    input.step === 'halt'
      ? current.packageRolloutStatus === 'PackageRolloutInProgress'
        ? 'apply'
        : current.packageRolloutStatus === 'PackageRolloutStopped'
          ? 'done'
          : 'changedOutside'
      : rampStepDecision(current, input.expected, input.step);
  let now = current;
  if (decision === 'apply') {
    const change = input.step === 'halt' ? ({ halt: true } as const) : changeOf(input.step);
    const answer = await applyRolloutChange(store, input.product, input.submissionId, change);
    ids.push(answer.correlationId);
    now = answer.value ?? {};
  }
  const result: RampStepResult = {
    outcome: decision === 'apply' ? 'applied' : decision,
    percentage: typeof now.packageRolloutPercentage === 'number' ? now.packageRolloutPercentage : 0,
    status: rolloutStatusOf(now),
    correlationIds: ids,
  };
  scope.log(
    `rollout of ${input.submissionId}: ${input.step === 'halt' ? 'halt' : JSON.stringify(input.step)} -> ${result.outcome}, ${result.status} ${result.percentage}%`,
  );
  return result;
});
