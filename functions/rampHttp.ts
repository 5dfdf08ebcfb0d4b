/**
 * A running ramp's controls: POST /api/submissions/{instanceId}/rollout/halt, /pause and
 * /resume raise the run's `rampControl` event. Halt calls the Store's halt and ends the ramp
 * (the Store cannot restart a halted rollout: it changes a rollout only while it is in
 * progress); pause holds the schedule with the rollout where it is, resume takes it up again.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { RAMP_EVENT, type RampAction, type RampControl } from '../lib/ramp';
import { RUN_ORCHESTRATION, findRun, runIdProblem } from '../lib/runClient';
import { isRunState } from '../lib/statusDocument';
import { answering, problem } from './answers';

/** The ramp states each action can be taken in. */
const ALLOWED: Record<RampAction, string[]> = {
  halt: ['Waiting', 'Paused'],
  pause: ['Waiting'],
  resume: ['Paused'],
};

export async function controlRamp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const instanceId = request.params.instanceId ?? '';
  const action = request.params.action as RampAction;
  if (!(action in ALLOWED))
    return problem(404, 'UnknownAction', `Unknown ramp action "${action}": use halt, pause or resume.`);
  const why = runIdProblem(instanceId);
  if (why) return problem(400, 'InvalidRunId', why);
  const client = df.getClient(context);
  const run = await findRun(client, instanceId);
  if (!run || run.name !== RUN_ORCHESTRATION)
    return problem(404, 'RunNotFound', `No submission run has the id "${instanceId}".`);
  const state = isRunState(run.customStatus) ? run.customStatus : undefined;
  const rampState = state?.ramp?.state;
  if (
    run.runtimeStatus !== 'Running' ||
    state?.phase !== 'RampingRollout' ||
    !ALLOWED[action].includes(rampState ?? '')
  ) {
    return problem(
      409,
      'RampNotRunning',
      `Run ${instanceId} has no ramp to ${action} (it is ${state?.phase ?? run.runtimeStatus}${rampState ? `, ramp ${rampState}` : ''}); ${action} works on a ramp that is ${ALLOWED[action].join(' or ')}.`,
    );
  }
  const control: RampControl = {
    action,
    by: request.headers.get('x-ms-client-principal-name') ?? 'unknown (a caller with the function key)',
    at: new Date().toISOString(),
  };
  await client.raiseEvent(instanceId, RAMP_EVENT, control);
  context.log(`[${instanceId}] ramp ${action} by ${control.by}`);
  return {
    status: 202,
    jsonBody: { instanceId, control, statusUrl: request.url.replace(/\/rollout\/\w+(\?.*)?$/, '') },
  };
}

app.http('controlRamp', {
  methods: ['POST'],
  route: 'submissions/{instanceId}/rollout/{action}',
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: answering(controlRamp),
});
