import { registerSecret } from '../../lib/redact';
import { EXIT, UsageError, type ExitCode } from '../errors';
import { FunctionsClient } from '../functionsClient';
import type { Output } from '../output';
import type { ApiOptions } from './rollout';
import { runIdFor } from './status';

/**
 * `approve <run> [--comment]` and `reject <run> --reason`: the decision for a run waiting at
 * the approval gate (options.commit "approval"). Approved, the run commits; rejected, it
 * deletes its submission and ends Rejected.
 */
export async function decideCommand(
  approved: boolean,
  ref: string,
  options: ApiOptions & { comment?: string; reason?: string; by?: string },
  out: Output,
): Promise<ExitCode> {
  out.secret(options.functionKey);
  registerSecret(options.functionKey);
  try {
    if (!approved && !options.reason?.trim()) throw new UsageError('reject needs --reason "<why>"', '--reason');
    const functions = new FunctionsClient(options.functionsUrl, options.functionKey);
    const { instanceId } = await runIdFor(functions, ref);
    const body: Record<string, unknown> = approved ? {} : { reason: options.reason };
    if (approved && options.comment) body.comment = options.comment;
    if (options.by) body.by = options.by;
    const answer = await functions.decide(instanceId, approved, body);
    out.result(answer, () =>
      approved
        ? `Approved run ${instanceId}: it commits submission ${String(answer.submissionId)}. Follow it with: store-submitter status ${instanceId} --wait`
        : `Rejected run ${instanceId}: it deletes submission ${String(answer.submissionId)} and ends Rejected.`,
    );
    return EXIT.ok;
  } catch (e) {
    return out.fail(e);
  }
}
