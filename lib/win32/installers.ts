/**
 * Makes each installer of a win32 zip reachable by a URL the Store can download: the entry is
 * streamed out of the zip (by range, inflated when deflated, its size and CRC-32 proved) into
 * the packages container, at a path of its own for every run (`<productId>/<run>/<path in zip>`:
 * "You must submit a versioned download URL ... The binary associated with that URL must not
 * change after submission", windows-dev-docs hub/apps/publish/publish-your-app/msi/
 * app-package-requirements.md), and handed out with a read-only SAS that expires.
 *
 * Memory is bounded by block size x concurrency whatever the installer's size. A copy that
 * already exists for the same zip version and entry is not made again, so an activity that runs
 * twice copies once. SAS URLs are registered as secrets and never returned from here but to the
 * code that sends them to the Store.
 */
import { Readable } from 'node:stream';
import {
  BlobSASPermissions,
  BlobServiceClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlobClient,
  type BlockBlobClient,
  type ContainerClient,
} from '@azure/storage-blob';
import { ConfigurationError, InputError, SourceBlobError, UploadError } from '../errors';
import { redact, registerSecret } from '../redact';
import { isTokenCredential, serviceUrlOf, withoutQuery } from '../upload';
import type { EntrySource } from '../zip/blobZip';
import { displayName } from '../zip/format';

/** Azure's limit on a user delegation key, hence on a SAS signed with one. */
export const MAX_USER_DELEGATION_DAYS = 7;

const META = {
  zip: 'storesubmitterzip',
  etag: 'storesubmitteretag',
  entry: 'storesubmitterentry',
} as const;

export interface StagedInstaller {
  /** The entry in the zip. */
  fileName: string;
  /** Its copy in the packages container. */
  blobName: string;
  bytes: number;
  /** False when an earlier attempt had already made the copy. */
  copied: boolean;
}

/** Where a run's copy of an installer lives: a new path per run, so no URL ever changes its binary. */
export function installerBlobName(productId: string, runId: string, fileName: string): string {
  return `${productId.toLowerCase()}/${runId}/${fileName.replace(/\\/g, '/')}`;
}

export interface StageOptions {
  /** The zip the entry is in (for the copy's record), and its version. */
  zip: { container: string; name: string; etag: string };
  /** The entry, opened from the zip pinned to that version (`BlobZip.openEntry`). */
  fileName: string;
  source: EntrySource;
  destination: BlockBlobClient;
  blockSizeBytes?: number;
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Copies one installer out of the zip (or finds the copy an earlier attempt made). A deflated
 * entry is inflated as a stream that proves its size and CRC-32 before the last block is
 * committed; a stored one is read in place by range.
 */
export async function stageInstaller(options: StageOptions): Promise<{ bytes: number; copied: boolean }> {
  const { zip, source, destination, fileName } = options;
  const mark = {
    [META.zip]: encodeURIComponent(`${zip.container}/${zip.name}`),
    [META.etag]: zip.etag.replace(/"/g, ''),
    [META.entry]: encodeURIComponent(fileName),
  };
  if (await isOurCopy(destination, mark, source.size)) return { bytes: source.size, copied: false };
  let failure: unknown;
  const body = Readable.from(source.stream(0, source.size)).on('error', (e) => {
    failure = e;
  });
  try {
    await destination.uploadStream(body, options.blockSizeBytes ?? 8 * 1024 * 1024, options.concurrency ?? 4, {
      blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
      metadata: mark,
      // Another attempt may be writing the same copy: the first to commit wins, and it is the same bytes.
      conditions: { ifNoneMatch: '*' },
      abortSignal: options.signal,
    });
  } catch (e) {
    if (failure) throw sourceFailure(failure, fileName);
    const status = (e as { statusCode?: number }).statusCode;
    if ((status === 409 || status === 412) && (await isOurCopy(destination, mark, source.size)))
      return { bytes: source.size, copied: false };
    throw destinationFailure(e, fileName);
  }
  return { bytes: source.size, copied: true };
}

async function isOurCopy(blob: BlockBlobClient, mark: Record<string, string>, size: number): Promise<boolean> {
  let props;
  try {
    props = await blob.getProperties();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw destinationFailure(e, blob.name);
  }
  const meta = props.metadata ?? {};
  const ours = Object.entries(mark).every(([k, v]) => meta[k] === v) && props.contentLength === size;
  if (!ours) {
    throw new UploadError(
      `The packages container already holds a different file at ${blob.containerName}/${blob.name}; it is not overwritten (a package URL must never change its binary).`,
      'InstallerPathTaken',
      false,
    );
  }
  return true;
}

function sourceFailure(e: unknown, name: string): Error {
  if (e instanceof InputError || e instanceof SourceBlobError || e instanceof UploadError) return e;
  const status = (e as { statusCode?: number }).statusCode;
  if (status === 412)
    return new SourceBlobError(`The zip changed while ${displayName(name)} was being copied out of it.`, 'BlobChanged');
  if (status === 404) return new SourceBlobError(`The zip is gone (reading ${displayName(name)}).`, 'BlobNotFound');
  return new UploadError(
    redact(
      `Reading ${displayName(name)} from the zip failed: ${status ?? ''} ${(e as Error)?.message ?? String(e)}`.trim(),
    ),
    'SourceReadFailed',
    status === undefined || status >= 500 || status === 408 || status === 429,
    status,
  );
}

function destinationFailure(e: unknown, name: string): UploadError {
  if (e instanceof UploadError) return e;
  const status = (e as { statusCode?: number }).statusCode;
  const code = (e as { details?: { errorCode?: string } }).details?.errorCode;
  const retriable = status === undefined || status >= 500 || status === 408 || status === 429;
  return new UploadError(
    redact(
      `Copying ${displayName(name)} to the packages container failed: ${status ?? 'no answer'}${code ? ` ${code}` : ''}.`,
    ),
    retriable ? 'InstallerCopyFailed' : 'InstallerCopyRefused',
    retriable,
    status,
  );
}

/**
 * A read-only URL of `blob` that stops working after `days`: an account-key (service) SAS, or a
 * user delegation SAS when the storage connection is an identity (at most 7 days: Azure's limit
 * on a delegation key). HTTPS only, unless the storage itself is plain HTTP (the sandbox's).
 */
export async function installerUrl(blob: BlobClient, days: number, now = new Date()): Promise<string> {
  const startsOn = new Date(now.getTime() - 5 * 60_000); // tolerate clock skew on the storage side
  const expiresOn = new Date(now.getTime() + days * 24 * 3600_000);
  const permissions = BlobSASPermissions.parse('r');
  const protocol = new URL(blob.url).protocol === 'https:' ? SASProtocol.Https : SASProtocol.HttpsAndHttp;
  const credential = blob.credential;
  let url: string;
  if (credential instanceof StorageSharedKeyCredential) {
    url = await blob.generateSasUrl({ permissions, startsOn, expiresOn, protocol });
  } else if (isTokenCredential(credential)) {
    if (days > MAX_USER_DELEGATION_DAYS) {
      throw new ConfigurationError(
        `WIN32_PACKAGE_URL_DAYS is ${days}, but the packages storage is reached with an identity, whose (user delegation) SAS lasts at most ${MAX_USER_DELEGATION_DAYS} days: lower it, or give WIN32_PACKAGES_STORAGE a connection string with an account key.`,
        ['WIN32_PACKAGE_URL_DAYS'],
      );
    }
    const service = new BlobServiceClient(serviceUrlOf(blob), credential);
    const key = await service.getUserDelegationKey(startsOn, expiresOn);
    const sas = generateBlobSASQueryParameters(
      { containerName: blob.containerName, blobName: blob.name, permissions, startsOn, expiresOn, protocol },
      key,
      blob.accountName,
    ).toString();
    url = `${withoutQuery(blob.url)}?${sas}`;
  } else {
    throw new ConfigurationError(
      'The packages storage connection has neither an account key nor an identity, so no SAS can be made for the installers: use a connection string with an account key, or an identity-based connection.',
      ['WIN32_PACKAGES_STORAGE'],
    );
  }
  registerSecret(url);
  return url;
}

/** The packages container, created when missing: private (the Store reads through the SAS). */
export async function packagesContainer(container: ContainerClient): Promise<ContainerClient> {
  await container.createIfNotExists();
  return container;
}
