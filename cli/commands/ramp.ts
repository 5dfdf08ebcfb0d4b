import { registerSecret } from '../../lib/redact';
import type { RampAction } from '../../lib/ramp';
import { EXIT, type ExitCode } from '../errors';
import { FunctionsClient } from '../functionsClient';
import type { Output } from '../output';
import type { ApiOptions } from './rollout';
import { runIdFor } from './status';

/** What each action does to the run, as the command says it. */
const DONE: Record<RampAction, string> = {
  halt: "halts its rollout (the Store's halt: 0 %, customers get the fallback submission) and ends its ramp; a halted rollout cannot be resumed",
  pause: 'holds its ramp: the rollout stays where it is until resume',
  resume: 'takes its ramp up again (a step already due is applied at once)',
};

/**
 * `ramp halt|pause|resume <run>`: controls the ramp (`options.rollout`) of a run after its
 * submission is published, through POST /api/submissions/{instanceId}/rollout/{action}. A run
 * without a ramp in a state that takes the action is the API's 409, exit 1.
 */
export async function rampCommand(
  action: RampAction,
  ref: string,
  options: ApiOptions & { by?: string },
  out: Output,
): Promise<ExitCode> {
  out.secret(options.functionKey);
  registerSecret(options.functionKey);
  try {
    const functions = new FunctionsClient(options.functionsUrl, options.functionKey);
    const { instanceId } = await runIdFor(functions, ref);
    const answer = await functions.rampControl(instanceId, action, options.by ? { by: options.by } : undefined);
    out.result(answer, () => [
      `Asked run ${instanceId} to ${action} its ramp: it ${DONE[action]}.`,
      `Follow it with: store-submitter status ${instanceId} --wait`,
    ]);
    return EXIT.ok;
  } catch (e) {
    return out.fail(e);
  }
}
