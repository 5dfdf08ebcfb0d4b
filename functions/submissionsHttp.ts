import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { config } from '../lib/config';
import { isInputError, isSubmitterError } from '../lib/errors';
import { validateOptions } from '../lib/manifest';
import { blobNameFrom, findRun, startRunForBlob, type DurableStatus } from '../lib/runs';
import { isRunState, statusDocument, summaryOf, type FollowerView, type RunStatus } from '../lib/runStatus';
import { submissionsContainer } from '../lib/storage';
import { cancelIdOf, type CancelInput } from '../orchestrations/cancelRun';
import { followerIdOf } from '../orchestrations/submitToStore';

function problem(status: number, code: string, message: string, extra: Record<string, unknown> = {}): HttpResponseInit {
  return { status, jsonBody: { error: { code, message, ...extra } } };
}

/** POST /api/submissions {"blob": "<name>", "options": {...}}: starts (or finds) the run for a zip already in the container. */
export async function startSubmission(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const settings = config();
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return problem(
      400,
      'InvalidBody',
      'The body must be JSON: {"blob": "<name in the submissions container>", "options": {...}}.',
    );
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return problem(
      400,
      'InvalidBody',
      'The body must be a JSON object: {"blob": "<name in the submissions container>"}.',
    );
  }
  const { blob, options, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    return problem(400, 'InvalidBody', `Unknown field(s) in the body: ${unknown.join(', ')}. Allowed: blob, options.`);

  const container = submissionsContainer();
  const name = blobNameFrom(blob, container.url, settings.submissionsContainer);
  if (typeof name !== 'string') return problem(400, 'InvalidBlobName', name.error);

  let overrides: Record<string, unknown> | undefined;
  if (options !== undefined) {
    try {
      overrides = validateOptions(options, 'body.options');
    } catch (e) {
      if (isInputError(e)) return problem(400, 'InvalidOptions', e.message, { problems: e.problems });
      throw e;
    }
  }

  const client = df.getClient(context);
  try {
    const result = await startRunForBlob(
      client,
      container.getBlobClient(name),
      { container: settings.submissionsContainer, name },
      {
        source: 'http',
        overrides,
        requestedAt: new Date().toISOString(),
      },
    );
    context.log(`[${result.instanceId}] ${result.started ? 'started' : 'already exists'} for ${name} via HTTP`);
    const response = client.createCheckStatusResponse(request, result.instanceId);
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      jsonBody: { ...((await response.json()) as object), started: result.started },
    };
  } catch (e) {
    if (isSubmitterError(e) && e.code === 'BlobNotFound') return problem(404, 'BlobNotFound', e.message);
    throw e;
  }
}

async function followerView(client: df.DurableClient, runId: string): Promise<FollowerView | undefined> {
  const follower = await findRun(client, followerIdOf(runId));
  const view: FollowerView | undefined = follower?.customStatus ?? undefined;
  return view;
}

/** GET /api/submissions/{instanceId}: the run's status document. */
export async function getSubmission(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const instanceId = request.params.instanceId ?? '';
  const client = df.getClient(context);
  const run = await findRun(client, instanceId);
  if (!run || run.name !== 'submitToStore')
    return problem(404, 'RunNotFound', `No submission run has the id "${instanceId}".`);
  let durable: DurableStatus = run;
  if (run.runtimeStatus === 'Terminated') {
    // A canceled run's cleanup carries on in its own instance, with the run's state.
    const cleanup = await findRun(client, cancelIdOf(instanceId));
    if (cleanup && isRunState(cleanup.customStatus)) durable = { ...run, customStatus: cleanup.customStatus };
  }
  const follower =
    isRunState(run.customStatus) && run.customStatus.phase === 'WaitingForStore'
      ? await followerView(client, instanceId)
      : undefined;
  return { status: 200, jsonBody: statusDocument(durable, follower) };
}

/**
 * When a run was asked for, to list the newest first: Durable's createdTime has whole seconds
 * only, so two uploads in one second would tie; the run's input has the time to the millisecond.
 */
function requestedAt(status: DurableStatus): string {
  const asked = (status.input as { requestedAt?: unknown } | null | undefined)?.requestedAt;
  if (typeof asked === 'string') return asked;
  const created = status.createdTime;
  return created instanceof Date ? created.toISOString() : (created ?? '');
}

const RUN_STATUSES: RunStatus[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Canceled'];

/** GET /api/submissions?blob=<name>&status=Running,Failed: find runs. */
export async function listSubmissions(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const blob = request.query.get('blob') ?? undefined;
  const statusParam = request.query.get('status');
  const wanted = statusParam
    ? statusParam
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
  const unknown = wanted?.filter((s) => !RUN_STATUSES.includes(s as RunStatus)) ?? [];
  if (unknown.length > 0) {
    return problem(
      400,
      'InvalidStatus',
      `Unknown status ${unknown.join(', ')}; use any of ${RUN_STATUSES.join(', ')}.`,
    );
  }
  const client = df.getClient(context);
  const all = await client.getStatusAll();
  const runs = all
    .filter((s) => s.name === 'submitToStore')
    .map((s) => ({ doc: statusDocument(s), since: requestedAt(s) }))
    .filter(({ doc }) => !blob || doc.blob.name === blob)
    .filter(({ doc }) => !wanted || wanted.includes(doc.status))
    .sort((a, b) => b.since.localeCompare(a.since))
    .map(({ doc }) => summaryOf(doc));
  return { status: 200, jsonBody: { runs } };
}

/**
 * POST /api/submissions/{instanceId}/cancel: stops the run and deletes the Store
 * submission it made but had not committed.
 */
export async function cancelSubmission(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const instanceId = request.params.instanceId ?? '';
  const client = df.getClient(context);
  const run = await findRun(client, instanceId);
  if (!run || run.name !== 'submitToStore')
    return problem(404, 'RunNotFound', `No submission run has the id "${instanceId}".`);
  if (!['Running', 'Pending', 'ContinuedAsNew', 'Suspended'].includes(run.runtimeStatus)) {
    return problem(
      409,
      'RunFinished',
      `Run ${instanceId} has already ended (${run.runtimeStatus}); there is nothing to cancel.`,
    );
  }
  const reason = request.query.get('reason') ?? 'canceled through the API';
  await client.terminate(instanceId, reason);
  const follower = await findRun(client, followerIdOf(instanceId));
  if (follower && ['Running', 'Pending'].includes(follower.runtimeStatus))
    await client.terminate(followerIdOf(instanceId), reason);
  if (isRunState(run.customStatus)) {
    const input: CancelInput = {
      runId: instanceId,
      reason,
      state: run.customStatus,
      createdTime: run.createdTime instanceof Date ? run.createdTime.toISOString() : undefined,
      settleSeconds: Math.ceil(config().store.requestTimeoutMs / 1000) + 5,
    };
    await client.startNew('cancelRun', { instanceId: cancelIdOf(instanceId), input });
  }
  context.log(`[${instanceId}] canceled: ${reason}`);
  return {
    status: 202,
    jsonBody: { instanceId, status: 'Canceling', statusUrl: request.url.replace(/\/cancel(\?.*)?$/, '') },
  };
}

const durableClient = df.input.durableClient();

app.http('startSubmission', {
  methods: ['POST'],
  route: 'submissions',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: startSubmission,
});

app.http('listSubmissions', {
  methods: ['GET'],
  route: 'submissions',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: listSubmissions,
});

app.http('getSubmission', {
  methods: ['GET'],
  route: 'submissions/{instanceId}',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: getSubmission,
});

app.http('cancelSubmission', {
  methods: ['POST'],
  route: 'submissions/{instanceId}/cancel',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: cancelSubmission,
});
