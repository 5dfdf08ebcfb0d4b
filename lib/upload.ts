/**
 * Copies the user's zip from its blob to the submission's `fileUploadUrl` as staged blocks
 * (Put Block + Put Block List): never a single PUT (old SAS versions cap it at 256 MiB), never a
 * block over 100 MiB, memory bounded by block size x concurrency, every source read pinned to
 * the ETag the run validated. Put Block From URL (no bytes through this process) is used only
 * after a probe shows the destination accepts it.
 *
 * Both URLs carry SAS signatures: they are registered for redaction, and no message built here
 * contains either of them.
 */
import { createHash } from 'node:crypto';
import {
  AnonymousCredential,
  BlobSASPermissions,
  BlobServiceClient,
  BlockBlobClient,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  newPipeline,
  type BlobClient,
  type HttpOperationResponse,
  type RequestPolicy,
  type RequestPolicyFactory,
  type WebResource,
} from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { withAttemptDeadline } from './deadline';
import { SourceBlobError, UploadError } from './errors';
import { redact, registerSecret } from './redact';
import { STORAGE_RETRY } from './storage';

export interface UploadOptions {
  /** The user's zip, authorized (connection string or token credential). */
  source: BlobClient;
  /** The version of the zip the run validated; every read is pinned to it. */
  sourceEtag: string;
  /** The SAS `fileUploadUrl`, raw as the Store returned it. */
  destinationUrl: string;
  /** Block size for the streamed path. Default 8 MiB; at most 100 MiB. */
  blockSizeBytes?: number;
  /** Block size for Put Block From URL (no memory cost). Default 100 MiB. */
  fromUrlBlockSizeBytes?: number;
  /** Blocks in flight at once. Default 4. */
  concurrency?: number;
  method?: 'auto' | 'fromUrl' | 'stream';
  onProgress?: (bytesDone: number, total: number) => void;
  signal?: AbortSignal;
  /**
   * How long one operation on the upload URL (a block, with the SDK's tries) may go without
   * finishing before it is abandoned and the upload fails with a retriable `Timeout`: this, plus
   * a second for every MiB it carries. Default: 10 minutes in all.
   */
  requestTimeoutMs?: number;
  /**
   * When this fires, no new block is begun: blocks in flight finish (each within its deadline),
   * nothing is committed, and the call returns `complete: false`. A later call resumes from the
   * staged blocks. The upload activity fires it when its time slice is over, so that no call
   * runs into the host's `functionTimeout` (lib/hostPlan.ts `uploadSliceMs`).
   */
  sliceSignal?: AbortSignal;
}

export interface UploadResult {
  bytes: number;
  blocks: number;
  /** Blocks an earlier attempt had already staged, not sent again. */
  resumedBlocks: number;
  method: 'fromUrl' | 'stream';
  probe?: 'accepted' | 'refused' | 'skipped';
  durationMs: number;
  /** False when the slice ended first: blocks are staged, nothing is committed; call again. */
  complete: boolean;
  /** Blocks staged by this call (not counting `resumedBlocks`). */
  stagedBlocks: number;
}

const MiB = 1024 * 1024;
/** Put Block's limit under the old SAS versions the Store hands out. */
export const MAX_BLOCK_BYTES = 100 * MiB;
export const MAX_BLOCKS = 50_000;
const DEFAULT_BLOCK_BYTES = 8 * MiB;
const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;
const PROBE_BYTES = 64 * 1024;
/** The source SAS lives this long: enough for a multi-GB server-side copy, short enough to be worthless soon after. */
const SOURCE_SAS_MINUTES = 60;
/** Asked of the service for each try (its `timeout` parameter), and the client's own deadline when no other is set. */
const TRY_TIMEOUT_MS = 10 * 60_000;
/** The slowest transfer a request to the upload URL is allowed before it counts as hung. */
const MIN_BYTES_PER_SECOND = MiB;

/** The deadline for operations carrying up to `bytes`: a hung request must not hold a run for 10 minutes. */
function operationTimeoutMs(options: Pick<UploadOptions, 'requestTimeoutMs'>, bytes: number): number {
  if (options.requestTimeoutMs === undefined) return TRY_TIMEOUT_MS;
  return options.requestTimeoutMs + Math.ceil((bytes / MIN_BYTES_PER_SECOND) * 1000);
}

/**
 * The longest one block of an upload with these options may take before it is cut (the
 * larger of the two paths' blocks): what a time slice must leave room for.
 */
export function blockDeadlineMs(
  options: Pick<UploadOptions, 'requestTimeoutMs' | 'blockSizeBytes' | 'method'>,
): number {
  const streamed = Math.min(options.blockSizeBytes ?? DEFAULT_BLOCK_BYTES, MAX_BLOCK_BYTES);
  const largest = options.method === 'stream' ? streamed : MAX_BLOCK_BYTES;
  return operationTimeoutMs(options, largest);
}

/** The Store's SAS URLs sometimes carry an unencoded `+`, which storage would read as a space. */
export function fixUploadUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  return url.slice(0, q) + url.slice(q).replace(/\+/g, '%2B');
}

/** Block size and count for a blob: the wanted size, grown only when 50,000 blocks would not hold the blob. */
export function planBlocks(size: number, wantedBlockBytes: number): { blockSize: number; count: number } {
  let blockSize = Math.max(1, Math.min(Math.floor(wantedBlockBytes), MAX_BLOCK_BYTES));
  if (Math.ceil(size / blockSize) > MAX_BLOCKS) blockSize = Math.ceil(size / MAX_BLOCKS / MiB) * MiB;
  if (blockSize > MAX_BLOCK_BYTES) {
    throw new UploadError(
      `The zip is ${size} bytes; staged blocks can carry at most ${MAX_BLOCKS} x 100 MiB.`,
      'ZipTooLarge',
      false,
    );
  }
  return { blockSize, count: Math.ceil(size / blockSize) };
}

/**
 * Block ids derive from the source version and block size only, so an activity that runs again
 * re-stages the same ids (the commit is atomic and takes only the listed blocks). All ids of a
 * blob must have the same length, uncommitted ones included: fixed width.
 */
export function blockIds(sourceEtag: string, blockSize: number, count: number): string[] {
  const prefix = createHash('sha256').update(`${sourceEtag}|${blockSize}`).digest('hex').slice(0, 16);
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(`${prefix}-${String(i).padStart(6, '0')}`).toString('base64'),
  );
}

export async function uploadZip(options: UploadOptions): Promise<UploadResult> {
  try {
    return await uploadOnce(options);
  } catch (e) {
    throw await goneRatherThanChanged(options.source, e);
  }
}

/**
 * A read or copy pinned to the zip's ETag answers 412 both when the zip was replaced and when
 * it was deleted. Deleted is the truer (and more useful) thing to say, so it is asked once.
 */
async function goneRatherThanChanged(source: BlobClient, e: unknown): Promise<unknown> {
  if (e instanceof SourceBlobError && e.code === 'BlobChanged' && !(await source.exists().catch(() => true)))
    return new SourceBlobError(
      'The zip blob was deleted while it was being uploaded; upload it again to submit it.',
      'BlobNotFound',
    );
  return e;
}

async function uploadOnce(options: UploadOptions): Promise<UploadResult> {
  const started = performance.now();
  const method = options.method ?? 'auto';
  const concurrency = Math.max(1, Math.min(Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY), MAX_CONCURRENCY));
  const destinationUrl = fixUploadUrl(options.destinationUrl);
  registerSecret(options.destinationUrl);
  registerSecret(destinationUrl);

  const size = await sourceSize(options.source, options.sourceEtag, options.signal);
  const progress = new Progress(size, options.onProgress);
  const finish = (r: Omit<UploadResult, 'durationMs' | 'bytes'>): UploadResult => ({
    bytes: size,
    ...r,
    durationMs: Math.round(performance.now() - started),
  });

  // Server-side copy needs a URL of the zip that the Store's storage can read.
  const sourceUrl =
    method !== 'stream' && size > 0 ? await readableSourceUrl(options.source, options.signal) : undefined;
  if (method === 'fromUrl' && !sourceUrl && size > 0) {
    throw new UploadError(
      'UPLOAD_METHOD is fromUrl, but no read SAS can be made for the source blob (its client has neither an account key nor a token credential).',
      'SourceSasUnavailable',
      false,
    );
  }
  let probe: UploadResult['probe'] = method === 'stream' ? undefined : 'skipped';
  if (sourceUrl) {
    const plan = planBlocks(size, options.fromUrlBlockSizeBytes ?? MAX_BLOCK_BYTES);
    const destination = destinationClient(
      destinationUrl,
      operationTimeoutMs(options, Math.min(plan.blockSize, size)),
      options.sourceEtag,
    );
    const ids = blockIds(options.sourceEtag, plan.blockSize, plan.count);
    if (method === 'auto') {
      probe = await probeFromUrl(destination, ids[0]!, sourceUrl, Math.min(size, PROBE_BYTES), options.signal);
    }
    if (probe !== 'refused') {
      const staged = await stagedBlocks(destination, options.signal);
      let resumed = 0;
      let sent = 0;
      const all = await runBlocks(size, plan, concurrency, options, async (index, offset, count, signal) => {
        if (staged.get(ids[index]!) !== count) {
          const what = `Copying block ${index + 1} of ${plan.count}`;
          try {
            await destination.stageBlockFromURL(ids[index]!, sourceUrl, offset, count, { abortSignal: signal });
          } catch (e) {
            throw classify(e, 'copy', what);
          }
          sent++;
        } else resumed++;
        progress.add(count);
      });
      if (all) await commit(destination, ids, options.signal);
      return finish({
        blocks: plan.count,
        resumedBlocks: resumed,
        stagedBlocks: sent,
        complete: all,
        method: 'fromUrl',
        probe,
      });
    }
  }
  const streamed = await streamUpload(options, destinationUrl, size, concurrency, progress);
  return finish({ ...streamed, method: 'stream', probe });
}

// ---------------------------------------------------------------------------

class Progress {
  private done = 0;
  constructor(
    private readonly total: number,
    private readonly report?: (bytesDone: number, total: number) => void,
  ) {}
  add(bytes: number): void {
    this.done += bytes;
    try {
      this.report?.(this.done, this.total);
    } catch {
      // A failing progress callback must not fail the upload.
    }
  }
}

async function sourceSize(source: BlobClient, etag: string, signal?: AbortSignal): Promise<number> {
  try {
    const props = await source.getProperties({ conditions: { ifMatch: etag }, abortSignal: signal });
    return props.contentLength ?? 0;
  } catch (e) {
    const err = classify(e, 'source', 'Reading the zip blob properties');
    // A condition on a missing blob may answer 412 too; gone is the more useful thing to say.
    if (err instanceof SourceBlobError && err.code === 'BlobChanged' && !(await source.exists().catch(() => true))) {
      throw new SourceBlobError('The zip blob is gone.', 'BlobNotFound');
    }
    throw err;
  }
}

async function streamUpload(
  options: UploadOptions,
  destinationUrl: string,
  size: number,
  concurrency: number,
  progress: Progress,
): Promise<{ blocks: number; resumedBlocks: number; stagedBlocks: number; complete: boolean }> {
  const plan = planBlocks(size, options.blockSizeBytes ?? DEFAULT_BLOCK_BYTES);
  const destination = destinationClient(destinationUrl, operationTimeoutMs(options, Math.min(plan.blockSize, size)));
  const ids = blockIds(options.sourceEtag, plan.blockSize, plan.count);
  const staged = await stagedBlocks(destination, options.signal);
  let resumed = 0;
  let sent = 0;
  // One buffer per worker, reused block after block: memory is blockSize x concurrency.
  const spare: Buffer[] = [];
  const all = await runBlocks(size, plan, concurrency, options, async (index, offset, count, signal) => {
    if (staged.get(ids[index]!) === count) {
      resumed++;
      progress.add(count);
      return;
    }
    const buffer = spare.pop() ?? Buffer.allocUnsafe(Math.min(plan.blockSize, size));
    try {
      const bytes = buffer.subarray(0, count);
      await readRange(options.source, options.sourceEtag, offset, bytes, signal);
      const md5 = createHash('md5').update(bytes).digest();
      try {
        await destination.stageBlock(ids[index]!, bytes, count, { transactionalContentMD5: md5, abortSignal: signal });
      } catch (e) {
        throw classify(e, 'destination', `Uploading block ${index + 1} of ${plan.count}`);
      }
      sent++;
      progress.add(count);
    } finally {
      spare.push(buffer);
    }
  });
  if (all) await commit(destination, ids, options.signal);
  return { blocks: plan.count, resumedBlocks: resumed, stagedBlocks: sent, complete: all };
}

/**
 * The blocks an earlier attempt of this upload staged and did not commit, by id, with their
 * sizes. The durable step reruns a failed upload (docs/architecture.md); block ids derive from
 * the zip's version and the block size, so a block staged under its id with its size holds
 * exactly its bytes and is not sent again. Nothing is known (an empty map) when the
 * destination has no blob yet or does not let the list be read: then every block is sent.
 */
async function stagedBlocks(destination: BlockBlobClient, signal?: AbortSignal): Promise<Map<string, number>> {
  try {
    const list = await destination.getBlockList('uncommitted', { abortSignal: signal });
    return new Map((list.uncommittedBlocks ?? []).map((b) => [b.name, b.size]));
  } catch {
    return new Map();
  }
}

/** Fills `target` with the source bytes at `offset`, pinned with If-Match. */
async function readRange(
  source: BlobClient,
  etag: string,
  offset: number,
  target: Buffer,
  signal: AbortSignal,
): Promise<void> {
  let filled = 0;
  try {
    const response = await source.download(offset, target.length, {
      conditions: { ifMatch: etag },
      abortSignal: signal,
      maxRetryRequests: 3,
    });
    const body = response.readableStreamBody;
    if (!body) throw new UploadError('The source answered without a body.', 'SourceReadFailed', true);
    for await (const chunk of body) {
      const piece = chunk as Buffer;
      if (filled + piece.length > target.length)
        throw new UploadError('The source sent more bytes than asked for.', 'SourceReadFailed', true);
      piece.copy(target, filled);
      filled += piece.length;
    }
  } catch (e) {
    throw classify(e, 'source', `Reading bytes ${offset}-${offset + target.length - 1} of the zip`);
  }
  if (filled !== target.length) {
    throw new UploadError(
      `Reading the zip at ${offset} gave ${filled} of ${target.length} bytes.`,
      'SourceReadFailed',
      true,
    );
  }
}

/**
 * Runs one task per block with at most `concurrency` in flight; the first failure stops the
 * others (their requests are aborted) and is the one thrown. Once `sliceSignal` fires no new
 * task begins; returns whether every block's task ran.
 */
async function runBlocks(
  size: number,
  plan: { blockSize: number; count: number },
  concurrency: number,
  signals: Pick<UploadOptions, 'signal' | 'sliceSignal'>,
  task: (index: number, offset: number, count: number, signal: AbortSignal) => Promise<void>,
): Promise<boolean> {
  const outer = signals.signal;
  const slice = signals.sliceSignal;
  const controller = new AbortController();
  let failure: Error | undefined;
  const cancel = (): void => {
    failure ??= new UploadError('The upload was cancelled.', 'Aborted', true);
    controller.abort();
  };
  if (outer?.aborted) cancel();
  outer?.addEventListener('abort', cancel);
  let next = 0;
  let finished = 0;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < plan.count && !slice?.aborted) {
      const index = next++;
      const offset = index * plan.blockSize;
      try {
        await task(index, offset, Math.min(plan.blockSize, size - offset), controller.signal);
        finished++;
      } catch (e) {
        failure ??= classify(e, 'destination', `Block ${index + 1} of ${plan.count}`);
        controller.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, plan.count) }, worker));
  } finally {
    outer?.removeEventListener('abort', cancel);
  }
  if (failure !== undefined) throw failure;
  return finished === plan.count;
}

async function commit(destination: BlockBlobClient, ids: string[], signal?: AbortSignal): Promise<void> {
  try {
    await destination.commitBlockList(ids, {
      blobHTTPHeaders: { blobContentType: 'application/zip' },
      abortSignal: signal,
    });
  } catch (e) {
    throw classify(e, 'destination', `Committing the ${ids.length} uploaded blocks`);
  }
}

// ---------------------------------------------------------------------------
// Put Block From URL

/**
 * The destination client, with the storage SDK's retry policy as every storage client has it
 * (`STORAGE_RETRY`, lib/storage.ts): the one layer inside the activity that retries a request.
 * With `pinEtag`, every request that copies from a URL also sends `x-ms-source-if-match`, so
 * the copy fails (412) instead of mixing versions if the zip changes: the SDK has no option for
 * that header on Put Block From URL.
 *
 * Both extra policies are legacy `RequestPolicyFactory` entries because @azure/storage-blob
 * 12.32 takes no other kind: its clients accept no core-rest-pipeline `PipelinePolicy` (no
 * `additionalPolicies`), and it wraps legacy factories into one policy placed before its retry
 * policy. The deadline therefore spans one operation with all its tries, not each try: a hung
 * request fails the block (a retriable `Timeout`), and the durable step reruns the upload,
 * which resumes from the blocks already staged (docs/architecture.md, the retry budget).
 */
function destinationClient(url: string, operationTimeoutMs: number, pinEtag?: string): BlockBlobClient {
  const pipeline = newPipeline(new AnonymousCredential(), {
    retryOptions: { ...STORAGE_RETRY, tryTimeoutInMs: TRY_TIMEOUT_MS },
  });
  pipeline.factories.push(deadlineFactory(operationTimeoutMs));
  if (pinEtag) pipeline.factories.push(sourcePinFactory(pinEtag));
  return new BlockBlobClient(url, pipeline);
}

/** A client-side deadline (see lib/deadline.ts) for one operation, its tries included (see above). */
function deadlineFactory(timeoutMs: number): RequestPolicyFactory {
  return {
    create: (next: RequestPolicy): RequestPolicy => ({
      sendRequest: (request: WebResource): Promise<HttpOperationResponse> =>
        withAttemptDeadline(request, timeoutMs, () => next.sendRequest(request)),
    }),
  };
}

function sourcePinFactory(etag: string): RequestPolicyFactory {
  return {
    create: (next: RequestPolicy): RequestPolicy => ({
      sendRequest(request: WebResource): Promise<HttpOperationResponse> {
        if (request.headers.get('x-ms-copy-source')) request.headers.set('x-ms-source-if-match', etag);
        return next.sendRequest(request);
      },
    }),
  };
}

async function probeFromUrl(
  destination: BlockBlobClient,
  blockId: string,
  sourceUrl: string,
  bytes: number,
  signal?: AbortSignal,
): Promise<'accepted' | 'refused'> {
  try {
    await destination.stageBlockFromURL(blockId, sourceUrl, 0, bytes, { abortSignal: signal });
    return 'accepted';
  } catch (e) {
    const err = classify(e, 'copy', 'Probing Put Block From URL');
    if (err instanceof SourceBlobError || (err instanceof UploadError && err.code === 'Aborted')) throw err;
    // Anything else (an old SAS version, a source the Store's storage cannot reach, a 5xx on an
    // operation that may simply be unsupported) means: do it the streamed way.
    return 'refused';
  }
}

/**
 * A short-lived read-only URL of the source that the destination service can read: an
 * account-key SAS, a user-delegation SAS for token credentials, or the client's own SAS URL.
 */
async function readableSourceUrl(source: BlobClient, signal?: AbortSignal): Promise<string | undefined> {
  const startsOn = new Date(Date.now() - 5 * 60_000); // tolerate clock skew on the storage side
  const expiresOn = new Date(Date.now() + SOURCE_SAS_MINUTES * 60_000);
  const permissions = BlobSASPermissions.parse('r');
  const credential = source.credential;
  let url: string | undefined;
  if (credential instanceof StorageSharedKeyCredential) {
    url = await source.generateSasUrl({ permissions, startsOn, expiresOn });
  } else if (isTokenCredential(credential)) {
    try {
      const service = new BlobServiceClient(serviceUrlOf(source), credential);
      const key = await service.getUserDelegationKey(startsOn, expiresOn, { abortSignal: signal });
      const sas = generateBlobSASQueryParameters(
        { containerName: source.containerName, blobName: source.name, permissions, startsOn, expiresOn },
        key,
        source.accountName,
      ).toString();
      url = `${withoutQuery(source.url)}?${sas}`;
    } catch {
      // No right to a delegation key (it needs a data-plane role on the account): stream instead.
      return undefined;
    }
  } else if (/[?&]sig=/i.test(source.url)) {
    url = source.url;
  }
  if (url) registerSecret(url);
  return url;
}

export function isTokenCredential(c: unknown): c is TokenCredential {
  return !!c && typeof (c as TokenCredential).getToken === 'function';
}

export function withoutQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** The account's service URL: host-style (`https://acct.blob...`) or path-style (`http://127.0.0.1:10000/acct`). */
export function serviceUrlOf(source: BlobClient): string {
  const u = new URL(withoutQuery(source.url));
  if (u.hostname.toLowerCase().startsWith(`${source.accountName.toLowerCase()}.`)) return u.origin;
  const first = u.pathname.split('/').filter(Boolean)[0] ?? '';
  return `${u.origin}/${first}`;
}

// ---------------------------------------------------------------------------
// Errors

interface StorageFailure {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  details?: { errorCode?: string };
}

type Side = 'source' | 'destination' | 'copy';

/**
 * A storage failure as a typed error. `side` says whose failure it is: the user's zip, the
 * Store's upload URL, or a server-side copy between the two. Messages carry status and storage
 * error code, never a URL.
 */
function classify(e: unknown, side: Side, what: string): UploadError | SourceBlobError {
  if (e instanceof UploadError || e instanceof SourceBlobError) return e;
  const err = (e ?? {}) as StorageFailure;
  if (err.name === 'AbortError') return new UploadError(`${what}: cancelled.`, 'Aborted', true);
  const status = typeof err.statusCode === 'number' ? err.statusCode : undefined;
  const code = err.details?.errorCode ?? (typeof err.code === 'string' ? err.code : undefined);
  const detail = redact(`${status ?? 'no answer'}${code ? ` ${code}` : ''}`);

  // Source reads carry If-Match and copies x-ms-source-if-match: a 412 means a new version of the zip.
  if (status === 412 && side !== 'destination') {
    return new SourceBlobError(`The zip blob changed while it was being uploaded (${what}: ${detail}).`, 'BlobChanged');
  }
  if (side === 'source' && status === 404)
    return new SourceBlobError(`The zip blob is gone (${what}: ${detail}).`, 'BlobNotFound');
  if (side === 'source' && (status === 401 || status === 403)) {
    return new SourceBlobError(
      `The zip blob cannot be read with the configured connection (${what}: ${detail}).`,
      'BlobUnreadable',
    );
  }
  if (status === undefined || status === 408 || status === 429 || status >= 500) {
    return new UploadError(
      `${what} failed: ${detail}.`,
      side === 'source' ? 'SourceReadFailed' : 'UploadFailed',
      true,
      status,
    );
  }
  if (side === 'copy' && code === 'CannotVerifyCopySource') {
    return new UploadError(
      `${what} failed: ${detail}: the Store's storage cannot read the zip; use UPLOAD_METHOD=stream.`,
      'CopySourceRefused',
      false,
      status,
    );
  }
  if (side !== 'source' && (status === 401 || status === 403 || status === 404)) {
    return new UploadError(
      `${what} failed: ${detail}. The submission's upload URL was refused (it may have expired, about a day after the submission was made): upload the zip again to start a new submission.`,
      'UploadUrlRejected',
      false,
      status,
    );
  }
  if (status === 413)
    return new UploadError(
      `${what} failed: ${detail} (the upload URL's limits refuse this size).`,
      'RequestBodyTooLarge',
      false,
      status,
    );
  return new UploadError(
    `${what} failed: ${detail}.`,
    side === 'source' ? 'SourceReadFailed' : 'UploadRejected',
    false,
    status,
  );
}
