/**
 * The approval gate's routes: POST /api/submissions/{instanceId}/approve and /reject raise
 * the run's `approval` event with who decided, when and why. Only a run that is waiting at
 * the gate takes one; the first decision wins.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { APPROVAL_EVENT, ApprovalRequestError, decisionOf } from '../lib/approval';
import { RUN_ORCHESTRATION, findRun, runIdProblem } from '../lib/runClient';
import { isRunState } from '../lib/statusDocument';
import { answering, problem } from './answers';

async function decide(approved: boolean, request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const instanceId = request.params.instanceId ?? '';
  const why = runIdProblem(instanceId);
  if (why) return problem(400, 'InvalidRunId', why);
  let body: unknown;
  const text = await request.text();
  try {
    body = text.trim() ? JSON.parse(text) : undefined;
  } catch {
    return problem(400, 'InvalidBody', 'The body must be JSON.');
  }
  let decision;
  try {
    // With App Service authentication on, the platform names the signed-in caller; that wins over the body.
    decision = decisionOf(approved, body, request.headers.get('x-ms-client-principal-name') ?? undefined, new Date());
  } catch (e) {
    if (e instanceof ApprovalRequestError) return problem(400, 'InvalidBody', e.message);
    throw e;
  }
  const client = df.getClient(context);
  const run = await findRun(client, instanceId);
  if (!run || run.name !== RUN_ORCHESTRATION)
    return problem(404, 'RunNotFound', `No submission run has the id "${instanceId}".`);
  const state = isRunState(run.customStatus) ? run.customStatus : undefined;
  if (run.runtimeStatus !== 'Running' || state?.phase !== 'AwaitingApproval' || state.approval?.state !== 'Waiting') {
    return problem(
      409,
      'NotAwaitingApproval',
      `Run ${instanceId} is not waiting for approval (it is ${state?.phase ?? run.runtimeStatus}${state?.approval ? `, approval ${state.approval.state}` : ''}); only a run with options.commit "approval" that has uploaded its submission can be approved or rejected.`,
    );
  }
  await client.raiseEvent(instanceId, APPROVAL_EVENT, decision);
  context.log(`[${instanceId}] ${approved ? 'approved' : 'rejected'} by ${decision.by}`);
  return {
    status: 202,
    jsonBody: {
      instanceId,
      decision,
      submissionId: state.submissionId,
      statusUrl: request.url.replace(/\/(approve|reject)(\?.*)?$/, ''),
    },
  };
}

/** POST /api/submissions/{instanceId}/approve {"comment": "..."}: the run commits its submission. */
export function approveSubmission(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return decide(true, request, context);
}

/** POST /api/submissions/{instanceId}/reject {"reason": "..."}: the run deletes its submission and ends Rejected. */
export function rejectSubmission(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return decide(false, request, context);
}

const durableClient = df.input.durableClient();

app.http('approveSubmission', {
  methods: ['POST'],
  route: 'submissions/{instanceId}/approve',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: answering(approveSubmission),
});

app.http('rejectSubmission', {
  methods: ['POST'],
  route: 'submissions/{instanceId}/reject',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: answering(rejectSubmission),
});
