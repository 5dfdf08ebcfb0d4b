/**
 * What the triggers and the HTTP API do with runs through the Durable client: start, find,
 * cancel. Written against the few Durable client calls it needs, so it reads (and is tested)
 * without the Functions runtime.
 */
import { RestError, type BlobClient } from '@azure/storage-blob';
import { SourceBlobError } from './errors';
import { cancelIdOf, followerIdOf, instanceIdFor, ongoingWaiterIdOf } from './instanceId';
import { cancelNote, type CancelInput, type CancelNote, type RunInput, type RunState } from './run';
import { isRunState, statusDocument, type FollowerView, type RunStatus } from './statusDocument';
import { ZIP_METADATA } from './storage';

/** The run's orchestration (orchestrations/submitToStore.ts). */
export const RUN_ORCHESTRATION = 'submitToStore';
/** A canceled run's cleanup (orchestrations/cancelRun.ts). */
export const CANCEL_ORCHESTRATION = 'cancelRun';

export interface DurableStatus {
  instanceId: string;
  name?: string;
  runtimeStatus: string;
  input?: unknown;
  customStatus?: unknown;
  output?: unknown;
  createdTime?: Date | string;
  lastUpdatedTime?: Date | string;
}

/** The slice of `df.DurableClient` runs need. */
export interface RunsClient {
  startNew(name: string, options: { instanceId: string; input: unknown }): Promise<string>;
  getStatus(instanceId: string, options?: { showInput?: boolean }): Promise<DurableStatus>;
}

export interface StartResult {
  instanceId: string;
  /** False when the blob version already has a run (the trigger fired twice, or HTTP asked again). */
  started: boolean;
  etag: string;
}

/** Undefined when no instance has that id (the client throws on a 404). */
export async function findRun(client: RunsClient, instanceId: string): Promise<DurableStatus | undefined> {
  try {
    return await client.getStatus(instanceId, { showInput: true });
  } catch (e) {
    if (e instanceof Error && /\b404\b/.test(e.message)) return undefined;
    throw e;
  }
}

/**
 * Starts the run for the current version of a zip, unless it has one. A zip stamped by a
 * finished run (metadata written at its end, which changes its ETag) points to that run.
 */
export async function startRunForBlob(
  client: RunsClient,
  blob: BlobClient,
  identity: { container: string; name: string },
  request: Pick<RunInput, 'overrides' | 'source' | 'requestedAt'>,
): Promise<StartResult> {
  let etag: string;
  let metadata: Record<string, string>;
  let uploadedAt: string | undefined;
  try {
    const props = await blob.getProperties();
    etag = props.etag ?? '';
    metadata = props.metadata ?? {};
    uploadedAt = props.lastModified?.toISOString();
  } catch (e) {
    if (e instanceof RestError && e.statusCode === 404) {
      throw new SourceBlobError(
        `No blob named "${identity.name}" in container "${identity.container}".`,
        'BlobNotFound',
      );
    }
    throw e;
  }
  const stampedBy = metadata[ZIP_METADATA.instanceId];
  if (stampedBy) return { instanceId: stampedBy, started: false, etag };

  const instanceId = instanceIdFor(identity.container, identity.name, etag);
  if (await findRun(client, instanceId)) return { instanceId, started: false, etag };
  const input: RunInput = { blob: { ...identity, etag }, uploadedAt, ...request };
  try {
    await client.startNew(RUN_ORCHESTRATION, { instanceId, input });
    return { instanceId, started: true, etag };
  } catch (e) {
    // Two starts raced for the same version: the loser finds the winner's run.
    if (await findRun(client, instanceId)) return { instanceId, started: false, etag };
    throw e;
  }
}

/** The slice of `df.DurableClient` canceling needs. */
export interface CancelClient extends RunsClient {
  terminate(instanceId: string, reason: string): Promise<void>;
}

export type CancelOutcome =
  /** `note`: what this cancel could and could not stop; absent when an earlier cancel already stopped the run. */
  | { canceled: true; note?: CancelNote }
  | { canceled: false; why: 'notFound' }
  /** `status`: how the run ended, in the API's words (Succeeded, Failed, Canceled). */
  | { canceled: false; why: 'ended'; status: RunStatus };

/** Runtime statuses of an instance that has not ended (a run that can still be stopped). */
export const ACTIVE_STATUSES: readonly string[] = ['Running', 'Pending', 'ContinuedAsNew', 'Suspended'];

export function isActive(status: DurableStatus | undefined): boolean {
  return !!status && ACTIVE_STATUSES.includes(status.runtimeStatus);
}

/**
 * Stops a run: terminates it (and its follower), then starts its cleanup instance, which
 * deletes the Store submission the run made and had not committed and writes its report.
 * Terminating stops an orchestration at once but undoes nothing, hence the cleanup.
 * Cancels may race (a user clicking twice, a script retrying): each answers as the first
 * did, and one cleanup runs.
 */
export async function requestCancel(
  client: CancelClient,
  instanceId: string,
  options: {
    reason: string;
    /** How long an activity of the terminated run may still be in flight. */
    settleSeconds: number;
  },
): Promise<CancelOutcome> {
  const { reason } = options;
  const run = await findRun(client, instanceId);
  if (!run || run.name !== RUN_ORCHESTRATION) return { canceled: false, why: 'notFound' };
  const startCleanup = async (state: RunState): Promise<void> => {
    const input: CancelInput = {
      runId: instanceId,
      reason,
      state,
      createdTime: run.createdTime instanceof Date ? run.createdTime.toISOString() : run.createdTime,
      settleSeconds: options.settleSeconds,
    };
    await client.startNew(CANCEL_ORCHESTRATION, { instanceId: cancelIdOf(instanceId), input }).catch(async (e) => {
      // "An instance with ID ... already exists": another cancel started the clean-up first.
      if (!(await findRun(client, cancelIdOf(instanceId)))) throw e;
    });
  };
  if (!isActive(run)) {
    if (run.runtimeStatus === 'Terminated' && isRunState(run.customStatus)) {
      // A cancel sent again, or at the same time as another whose terminate landed first (its
      // clean-up may not have started yet): the same answer, and the clean-up made sure of.
      const cleanup = await findRun(client, cancelIdOf(instanceId));
      if (!cleanup) await startCleanup(run.customStatus);
      if (!cleanup || isActive(cleanup)) return { canceled: true };
    }
    return { canceled: false, why: 'ended', status: statusDocument(run).status };
  }
  // Cancels that race each other: the first terminate wins, and the others find it done.
  await client.terminate(instanceId, reason).catch(async (e: unknown) => {
    if (isActive(await findRun(client, instanceId))) throw e;
  });
  const follower = await findRun(client, followerIdOf(instanceId));
  if (follower && ['Running', 'Pending'].includes(follower.runtimeStatus))
    await client.terminate(followerIdOf(instanceId), reason).catch(() => undefined);
  // An MSI/EXE run may be waiting out someone's submission in sub-orchestrations that poll the Store: they stop too.
  const waits = isRunState(run.customStatus) ? (run.customStatus.win32?.waitedForSubmissions?.length ?? 0) : 0;
  for (let n = 1; n <= waits; n++) {
    const waiter = await findRun(client, ongoingWaiterIdOf(instanceId, n));
    if (isActive(waiter)) await client.terminate(ongoingWaiterIdOf(instanceId, n), reason).catch(() => undefined);
  }
  // A run waiting for another's pending submission: that follower would poll on until the deadline.
  const pendingFollower = isRunState(run.customStatus) ? run.customStatus.pendingWait?.followerId : undefined;
  if (pendingFollower) await client.terminate(pendingFollower, reason).catch(() => undefined);
  if (!isRunState(run.customStatus)) return { canceled: true };
  // The follower knows the Store's latest status of a committed submission.
  const followerView = follower?.customStatus as FollowerView | undefined;
  const storeStatus = followerView?.storeStatus ?? run.customStatus.storeStatus;
  const state: RunState = { ...run.customStatus, storeStatus: storeStatus as RunState['storeStatus'] };
  // The follower numbered the run's Store status events: the cleanup's events number on after them.
  const sent = state.notifications;
  if (sent && (followerView?.notified ?? 0) > sent.sent)
    state.notifications = { ...sent, sent: followerView!.notified! };
  await startCleanup(state);
  return { canceled: true, note: cancelNote(state, reason) };
}

/**
 * Turns what the caller sent as `blob` into a name inside the submissions container, or
 * says why not. A URL is accepted only when it points into that container.
 */
export function blobNameFrom(value: unknown, containerUrl: string, containerName: string): string | { error: string } {
  if (typeof value !== 'string' || value.trim() === '') {
    return { error: 'body.blob must be the name of a zip in the submissions container, e.g. "releases/1.2.3.zip".' };
  }
  let name = value.trim();
  // Checked before anything else reads it: a name of megabytes is refused without being echoed.
  if (name.length > MAX_BLOB_URL_LENGTH)
    return {
      error: `body.blob is ${name.length} characters long; a blob name is at most ${MAX_BLOB_NAME_LENGTH} (and its URL at most ${MAX_BLOB_URL_LENGTH}).`,
    };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) {
    const prefix = `${containerUrl.replace(/\/+$/, '')}/`;
    if (!name.startsWith(prefix)) {
      return {
        error: `body.blob is a URL outside the submissions container "${containerName}"; give the blob's name in that container.`,
      };
    }
    const path = name.slice(prefix.length).split('?')[0] ?? '';
    try {
      name = decodeURIComponent(path);
    } catch {
      return {
        error: `body.blob is a URL with a malformed %-escape ("${shorten(path)}"); encode "%" as %25, or give the blob's name instead of its URL.`,
      };
    }
  }
  // Azure's own rules: https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata
  if (name.length > MAX_BLOB_NAME_LENGTH)
    return { error: `body.blob is ${name.length} characters long; a blob name is at most ${MAX_BLOB_NAME_LENGTH}.` };
  if (name.split('/').length > MAX_BLOB_PATH_SEGMENTS)
    return { error: `body.blob has more than ${MAX_BLOB_PATH_SEGMENTS} path segments, the most a blob name can have.` };
  if (
    name.startsWith('/') ||
    name.includes('\\') ||
    /[\x00-\x1f\x7f]/.test(name) ||
    name.split('/').some((s) => s === '..' || s === '.' || s === '')
  ) {
    return { error: `body.blob "${shorten(name)}" is not a plain blob name inside the submissions container.` };
  }
  if (!name.toLowerCase().endsWith('.zip')) return { error: `body.blob "${shorten(name)}" is not a .zip.` };
  return name;
}

/** Azure Storage: a blob name has 1 to 1,024 characters and at most 254 path segments. */
export const MAX_BLOB_NAME_LENGTH = 1024;
const MAX_BLOB_PATH_SEGMENTS = 254;
/** A blob URL percent-encodes its name (up to three characters per character) after the account and container. */
const MAX_BLOB_URL_LENGTH = 4 * MAX_BLOB_NAME_LENGTH;

/**
 * Durable Functions' limit on instance ids; ours are `zip-` and 40 hex digits.
 * https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-instance-management
 */
export const MAX_INSTANCE_ID_LENGTH = 100;

/** Why `id` cannot be the id of any run (so the API answers 400 without asking the task hub), or undefined. */
export function runIdProblem(id: string): string | undefined {
  if (id.length > MAX_INSTANCE_ID_LENGTH)
    return `The run id is ${id.length} characters long; run ids are at most ${MAX_INSTANCE_ID_LENGTH} (they look like zip-<40 hex digits>, as POST /api/submissions answers).`;
  if (/[\x00-\x1f\x7f/\\#?]/.test(id)) return `The run id "${shorten(id)}" holds characters no run id has.`;
  return undefined;
}

/** A value echoed in a message, cut to a readable length. */
function shorten(text: string, max = 120): string {
  const safe = text.replace(/[\x00-\x1f\x7f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max)}... (${text.length} characters)` : safe;
}
