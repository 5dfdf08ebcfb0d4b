import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { config } from '../lib/config';
import { answering, problem } from './answers';
import { isInputError, isSubmitterError } from '../lib/errors';
import { cancelIdOf, followerIdOf, notifierIdOf } from '../lib/instanceId';
import { validateOptions } from '../lib/manifest';
import {
  RUN_ORCHESTRATION,
  blobNameFrom,
  findRun,
  isActive,
  requestCancel,
  runIdProblem,
  startRunForBlob,
  type DurableStatus,
} from '../lib/runClient';
import type { NotifierView, StepRecord } from '../lib/run';
import {
  isRunState,
  MAX_NOTIFY_ENTRIES,
  statusDocument,
  summaryOf,
  type FollowerView,
  type RunStatus,
} from '../lib/statusDocument';
import { submissionsContainer } from '../lib/storage';
import { durableInstancePager, gatherPage, nextLink, parseListWindow, type DurableClientData } from '../lib/runListing';

const durableClient = df.input.durableClient();

/** A 400 for a run id that no run can have (too long, odd characters), before asking the task hub. */
function badRunId(instanceId: string): HttpResponseInit | undefined {
  const why = runIdProblem(instanceId);
  return why ? problem(400, 'InvalidRunId', why) : undefined;
}

/**
 * The run's status and cancel URLs, built from the URL the caller used (so they name the host and
 * route prefix it reached) without its query: a `?code=` key the caller sent must not come back.
 */
export function runLinks(requestUrl: string, instanceId: string): { statusUrl: string; cancelUrl: string } {
  const url = new URL(requestUrl);
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  const statusUrl = `${base}/${encodeURIComponent(instanceId)}`;
  return { statusUrl, cancelUrl: `${statusUrl}/cancel` };
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
    // The app's own URLs, not Durable's check-status payload (createCheckStatusResponse): its URLs
    // carry the durabletask_extension system key (DefaultScriptWebHookProvider.cs:69,91), which
    // opens terminate, purge, rewind and raise-event on every instance of the task hub.
    const links = runLinks(request.url, result.instanceId);
    return {
      status: 202,
      headers: { Location: links.statusUrl, 'Retry-After': '10' },
      jsonBody: { id: result.instanceId, started: result.started, ...links },
    };
  } catch (e) {
    if (isSubmitterError(e) && e.code === 'BlobNotFound') return problem(404, 'BlobNotFound', e.message);
    throw e;
  }
}

async function followerView(client: df.DurableClient, followerId: string): Promise<FollowerView | undefined> {
  const follower = await findRun(client, followerId);
  const view: FollowerView | undefined = follower?.customStatus ?? undefined;
  return view;
}

/**
 * The timeline entries of the run's events: each notifier's custom status (orchestrations/notify.ts).
 * The run counts its events (and its follower those it emitted), so these are notifiers 1..count;
 * one not started yet, or already purged, is left out.
 */
async function notificationRecords(
  client: df.DurableClient,
  runId: string,
  durable: DurableStatus,
  follower: FollowerView | undefined,
): Promise<StepRecord[]> {
  const state = isRunState(durable.customStatus) ? durable.customStatus : undefined;
  const count = Math.max(state?.notifications?.sent ?? 0, follower?.notified ?? 0);
  const first = Math.max(1, count - MAX_NOTIFY_ENTRIES + 1);
  const ids = Array.from({ length: Math.max(0, count - first + 1) }, (_v, i) => notifierIdOf(runId, first + i));
  const views = await Promise.all(ids.map((id) => findRun(client, id).catch(() => undefined)));
  return views.flatMap((v) => {
    const record = (v?.customStatus as NotifierView | null | undefined)?.record;
    return record ? [record] : [];
  });
}

/** GET /api/submissions/{instanceId}: the run's status document. */
export async function getSubmission(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const instanceId = request.params.instanceId ?? '';
  const invalid = badRunId(instanceId);
  if (invalid) return invalid;
  const client = df.getClient(context);
  const run = await findRun(client, instanceId);
  if (!run || run.name !== RUN_ORCHESTRATION)
    return problem(404, 'RunNotFound', `No submission run has the id "${instanceId}".`);
  let durable: DurableStatus = run;
  let cleaningUp = false;
  if (run.runtimeStatus === 'Terminated') {
    // A canceled run's cleanup carries on in its own instance, with the run's state.
    const cleanup = await findRun(client, cancelIdOf(instanceId));
    if (cleanup && isRunState(cleanup.customStatus)) durable = { ...run, customStatus: cleanup.customStatus };
    cleaningUp = isActive(cleanup);
  }
  // While the run waits for the Store, its follower knows the latest status: of our submission,
  // or of the pending one the run waits for.
  const waitingFor = !isRunState(run.customStatus)
    ? undefined
    : run.customStatus.phase === 'WaitingForStore'
      ? followerIdOf(instanceId)
      : run.customStatus.phase === 'WaitingForPendingSubmission'
        ? run.customStatus.pendingWait?.followerId
        : undefined;
  const follower = waitingFor ? await followerView(client, waitingFor) : undefined;
  const notifications = await notificationRecords(client, instanceId, durable, follower);
  return { status: 200, jsonBody: statusDocument(durable, follower, cleaningUp, notifications) };
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

const RUN_STATUSES: RunStatus[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Canceling', 'Canceled', 'Rejected'];

/**
 * GET /api/submissions?since=&until=&top=&continuation=&blob=<name>&status=Running,Failed: the runs
 * created in a time window, a page at a time (lib/runListing.ts), newest first within the page,
 * and a `next` URL while the window has more.
 */
export async function listSubmissions(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const blob = request.query.get('blob') ?? undefined;
  const statusParam = request.query.get('status');
  // `status=` and `status=,,,` name no status: both mean "any", as leaving the parameter out does.
  const listed = (statusParam ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const wanted = listed.length ? listed : undefined;
  const unknown = wanted?.filter((s) => !RUN_STATUSES.includes(s as RunStatus)) ?? [];
  if (unknown.length > 0) {
    return problem(
      400,
      'InvalidStatus',
      `Unknown status ${unknown.join(', ')}; use any of ${RUN_STATUSES.join(', ')}.`,
    );
  }
  const window = parseListWindow(request.query, new Date());
  if (!window.ok) return problem(400, window.code, window.message);

  const client = df.getClient(context);
  const fetchPage = durableInstancePager(context.extraInputs.get(durableClient) as DurableClientData);
  // What a run's status document says decides whether it is listed: its blob and its status.
  const docs = new Map<string, ReturnType<typeof statusDocument>>();
  const docOf = (s: DurableStatus): ReturnType<typeof statusDocument> => {
    let doc = docs.get(s.instanceId);
    if (!doc) docs.set(s.instanceId, (doc = statusDocument(s)));
    return doc;
  };
  const { kept, next } = await gatherPage(fetchPage, window.value, (s) => {
    if (s.name !== RUN_ORCHESTRATION) return false;
    if (blob && docOf(s).blob.name !== blob) return false;
    // A terminated run is Canceled, or Canceling while its clean-up runs: decided below, so both pass here.
    if (wanted && s.runtimeStatus !== 'Terminated' && !wanted.includes(docOf(s).status)) return false;
    return true;
  });
  const runs = (
    await Promise.all(
      kept.map(async (s) => {
        const cleaningUp =
          s.runtimeStatus === 'Terminated' && isActive(await findRun(client, cancelIdOf(s.instanceId)));
        return { doc: statusDocument(s, undefined, cleaningUp), since: requestedAt(s) };
      }),
    )
  )
    .filter(({ doc }) => !wanted || wanted.includes(doc.status))
    .sort((a, b) => b.since.localeCompare(a.since))
    .map(({ doc }) => summaryOf(doc));
  const body: Record<string, unknown> = {
    runs,
    since: window.value.since.toISOString(),
    until: window.value.until.toISOString(),
  };
  if (next) body.next = nextLink(request.url, window.value, next, { blob, status: statusParam ?? undefined });
  return { status: 200, jsonBody: body };
}

/**
 * POST /api/submissions/{instanceId}/cancel: stops the run and deletes the Store
 * submission it made but had not committed.
 */
export async function cancelSubmission(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const instanceId = request.params.instanceId ?? '';
  const invalid = badRunId(instanceId);
  if (invalid) return invalid;
  const client = df.getClient(context);
  const reason = request.query.get('reason') ?? 'canceled through the API';
  const result = await requestCancel(client, instanceId, {
    reason,
    settleSeconds: Math.ceil(config().store.requestTimeoutMs / 1000) + 5,
  });
  if (!result.canceled && result.why === 'notFound')
    return problem(404, 'RunNotFound', `No submission run has the id "${instanceId}".`);
  if (!result.canceled)
    return problem(
      409,
      'RunFinished',
      `Run ${instanceId} has already ended (${result.status}); there is nothing to cancel.`,
    );
  if (result.note) context.log(`[${instanceId}] canceled: ${reason}`);
  const canceling = { instanceId, status: 'Canceling', statusUrl: request.url.replace(/\/cancel(\?.*)?$/, '') };
  if (!result.note) return { status: 202, jsonBody: canceling };
  const { committed, submissionId, storeStatus, message } = result.note;
  return { status: 202, jsonBody: { ...canceling, committed, submissionId, storeStatus, message } };
}

app.http('startSubmission', {
  methods: ['POST'],
  route: 'submissions',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: answering(startSubmission),
});

app.http('listSubmissions', {
  methods: ['GET'],
  route: 'submissions',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: answering(listSubmissions),
});

app.http('getSubmission', {
  methods: ['GET'],
  route: 'submissions/{instanceId}',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: answering(getSubmission),
});

app.http('cancelSubmission', {
  methods: ['POST'],
  route: 'submissions/{instanceId}/cancel',
  authLevel: 'function',
  extraInputs: [durableClient],
  handler: answering(cancelSubmission),
});
