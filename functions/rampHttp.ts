/**
 * A running ramp's controls: POST /api/submissions/{instanceId}/rollout/halt, /pause and
 * /resume raise the run's `rampControl` event. Halt calls the Store's halt and ends the ramp
 * (the Store cannot restart a halted rollout: it changes a rollout only while it is in
 * progress); pause holds the schedule with the rollout where it is, resume takes it up again.
 * `store-submitter ramp halt|pause|resume <run>` calls them.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { RAMP_ACTIONS, RAMP_EVENT, isRampAction, type RampControl } from '../lib/ramp';
import { RUN_ORCHESTRATION, findRun, runIdProblem } from '../lib/runClient';
import { isRunState } from '../lib/statusDocument';
import { answering, problem } from './answers';

export async function controlRamp(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const instanceId = request.params.instanceId ?? '';
  const action = request.params.action ?? '';
  if (!isRampAction(action))
    return problem(404, 'UnknownAction', `Unknown ramp action "${action}": use halt, pause or resume.`);
  const why = runIdProblem(instanceId);
  if (why) return problem(400, 'InvalidRunId', why);
  const by = await byOf(request);
  if (typeof by === 'object') return by;
  const client = df.getClient(context);
  const run = await findRun(client, instanceId);
  if (!run || run.name !== RUN_ORCHESTRATION)
    return problem(404, 'RunNotFound', `No submission run has the id "${instanceId}".`);
  const state = isRunState(run.customStatus) ? run.customStatus : undefined;
  const rampState = state?.ramp?.state;
  if (
    run.runtimeStatus !== 'Running' ||
    state?.phase !== 'RampingRollout' ||
    !(RAMP_ACTIONS[action] as readonly string[]).includes(rampState ?? '')
  ) {
    return problem(
      409,
      'RampNotRunning',
      `Run ${instanceId} has no ramp to ${action} (it is ${state?.phase ?? run.runtimeStatus}${rampState ? `, ramp ${rampState}` : ''}); ${action} works on a ramp that is ${RAMP_ACTIONS[action].join(' or ')}.`,
    );
  }
  const control: RampControl = {
    action,
    by,
    at: new Date().toISOString(),
  };
  await client.raiseEvent(instanceId, RAMP_EVENT, control);
  context.log(`[${instanceId}] ramp ${action} by ${control.by}`);
  return {
    status: 202,
    jsonBody: { instanceId, control, statusUrl: request.url.replace(/\/rollout\/\w+(\?.*)?$/, '') },
  };
}

/**
 * Who asks: the signed-in caller when App Service authentication is on (it wins), else the
 * body's optional `"by"` (`{"by": "..."}`, as the approval routes take it), else unknown.
 */
async function byOf(request: HttpRequest): Promise<string | HttpResponseInit> {
  const principal = request.headers.get('x-ms-client-principal-name');
  const text = await request.text();
  let body: unknown;
  try {
    body = text.trim() ? JSON.parse(text) : {};
  } catch {
    return problem(400, 'InvalidBody', 'The body must be JSON: nothing, or {"by": "<who>"}.');
  }
  const fields =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const unknown = fields ? Object.keys(fields).filter((k) => k !== 'by') : [];
  if (!fields || unknown.length || (fields.by !== undefined && typeof fields.by !== 'string'))
    return problem(400, 'InvalidBody', 'The body must be nothing, or {"by": "<who>"}.');
  const named = typeof fields.by === 'string' ? fields.by.trim().slice(0, 200) : '';
  return principal ?? (named || 'unknown (a caller with the function key)');
}

app.http('controlRamp', {
  methods: ['POST'],
  route: 'submissions/{instanceId}/rollout/{action}',
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: answering(controlRamp),
});
