/**
 * Starting and finding runs. Shared by the blob trigger and the HTTP API, written against
 * the few Durable client calls it needs so it reads without the Functions runtime.
 */
import { RestError, type BlobClient } from '@azure/storage-blob';
import { SourceBlobError } from './errors';
import { instanceIdFor } from './instanceId';
import type { RunInput } from './run';
import { ZIP_METADATA } from './storage';

export const RUN_ORCHESTRATION = 'submitToStore';

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
