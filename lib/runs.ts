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
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) {
    const prefix = `${containerUrl.replace(/\/+$/, '')}/`;
    if (!name.startsWith(prefix)) {
      return {
        error: `body.blob is a URL outside the submissions container "${containerName}"; give the blob's name in that container.`,
      };
    }
    name = decodeURIComponent(name.slice(prefix.length).split('?')[0] ?? '');
  }
  if (name.startsWith('/') || name.includes('\\') || name.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    return { error: `body.blob "${name}" is not a plain blob name inside the submissions container.` };
  }
  if (!name.toLowerCase().endsWith('.zip')) return { error: `body.blob "${name}" is not a .zip.` };
  return name;
}
