/**
 * The submissions container as the CLI reaches it: a connection string, or an account URL
 * with an Azure AD identity (DefaultAzureCredential) or a SAS in the URL. Upload with progress.
 */
import { AnonymousCredential, BlobServiceClient, RestError, type ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/core-auth';
import { stat } from 'node:fs/promises';
import { describeUrl, registerSecret } from '../lib/redact';
import { ServiceError, UsageError } from './errors';
import { networkReason } from './functionsClient';

export interface StorageArgs {
  connectionString?: string;
  accountUrl?: string;
  /** Signs in to accountUrl instead of DefaultAzureCredential (the GitHub Action's OIDC credential). */
  credential?: TokenCredential;
  container: string;
}

/** A CLI is interactive: fail within seconds when storage is down, not after the SDK's minute of retries. */
const RETRY = { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 4000, tryTimeoutInMs: 10 * 60_000 };

export async function containerFrom(args: StorageArgs): Promise<{ container: ContainerClient; where: string }> {
  let service: BlobServiceClient;
  let where: string;
  if (args.accountUrl) {
    const url = args.accountUrl;
    registerSecret(url);
    const hasSas = /[?&]sig=/i.test(url);
    // @azure/identity is loaded only when it signs in.
    const credential = hasSas
      ? new AnonymousCredential()
      : (args.credential ?? new (await import('@azure/identity')).DefaultAzureCredential());
    try {
      service = new BlobServiceClient(url, credential, { retryOptions: RETRY });
    } catch (e) {
      throw new UsageError(
        `--account-url is not a URL: ${e instanceof Error ? e.message : String(e)}`,
        '--account-url',
      );
    }
    where = describeUrl(url);
  } else if (args.connectionString) {
    try {
      service = BlobServiceClient.fromConnectionString(args.connectionString, { retryOptions: RETRY });
    } catch {
      throw new UsageError(
        'the connection string is not a storage connection string (AccountName=...;AccountKey=... or UseDevelopmentStorage=true)',
        '--connection-string',
      );
    }
    where = describeUrl(service.url);
  } else {
    throw new UsageError(
      'no storage to upload to: pass --connection-string (or set SUBMISSIONS_STORAGE), or --account-url (or set SUBMISSIONS_STORAGE__blobServiceUri) to sign in with Azure AD',
      '--connection-string',
    );
  }
  return { container: service.getContainerClient(args.container), where };
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * Checks before the upload that the container exists and, without `overwrite`, that the name
 * is free: replacing a zip under a run makes that run fail (it reads the version it started with).
 */
export async function checkUploadTarget(
  container: ContainerClient,
  name: string,
  options: { overwrite: boolean; where: string },
): Promise<void> {
  const exists = await container.exists().catch((e: unknown) => {
    // A SAS or role that may write but not read the container: the upload itself will tell.
    if (e instanceof RestError && (e.statusCode === 401 || e.statusCode === 403)) return true;
    throw storageError(e, options.where, `the container ${container.containerName}`);
  });
  if (!exists) {
    throw new UsageError(
      `the container "${container.containerName}" does not exist in ${options.where}; it is the one the Functions app watches (SUBMISSIONS_CONTAINER): check --container`,
      '--container',
    );
  }
  if (options.overwrite) return;
  const taken = await container
    .getBlobClient(name)
    .exists()
    .catch(() => false);
  if (taken) throw nameTaken(`${container.containerName}/${name}`);
}

function nameTaken(label: string): UsageError {
  return new UsageError(
    `${label} already exists; give the upload another name with --name, or replace it with --overwrite (a run still reading it would fail)`,
    '--name',
  );
}

/** Uploads `file` as `name` (staged 8 MiB blocks, 4 in flight, for large files); refuses to replace a blob unless `overwrite`. */
export async function uploadZip(
  container: ContainerClient,
  name: string,
  file: string,
  options: { overwrite: boolean; onProgress?: (p: UploadProgress) => void; where: string },
): Promise<{ etag: string; bytes: number }> {
  const { size } = await stat(file);
  const label = `${container.containerName}/${name}`;
  try {
    const res = await container.getBlockBlobClient(name).uploadFile(file, {
      blockSize: 8 * 1024 * 1024,
      concurrency: 4,
      blobHTTPHeaders: { blobContentType: 'application/zip' },
      // Also guards the race between the check above and this upload.
      conditions: options.overwrite ? undefined : { ifNoneMatch: '*' },
      onProgress: (ev) => options.onProgress?.({ loaded: ev.loadedBytes, total: size }),
    });
    if (!res.etag) throw new ServiceError(`storage did not return the ETag of ${label}`, 'UnexpectedAnswer', false);
    return { etag: res.etag, bytes: size };
  } catch (e) {
    if (e instanceof RestError && (e.statusCode === 409 || e.statusCode === 412) && !options.overwrite)
      throw nameTaken(label);
    throw storageError(e, options.where, label);
  }
}

function storageError(e: unknown, where: string, what: string): unknown {
  if (e instanceof UsageError || e instanceof ServiceError) return e;
  if (e instanceof RestError) {
    if (e.statusCode === 401 || e.statusCode === 403) {
      return new ServiceError(
        `storage ${where} refused access to ${what} (HTTP ${e.statusCode}${e.code ? ` ${e.code}` : ''})`,
        'AccessDenied',
        false,
        e.statusCode,
      );
    }
    if (e.statusCode === undefined || e.statusCode >= 500) {
      return new ServiceError(
        `cannot reach storage ${where}: ${e.code ?? networkReason(e)}`,
        'StorageUnreachable',
        true,
        e.statusCode,
      );
    }
    return new ServiceError(
      `storage ${where} refused ${what} (HTTP ${e.statusCode}${e.code ? ` ${e.code}` : ''})`,
      'ServiceError',
      false,
      e.statusCode,
    );
  }
  // DefaultAzureCredential found no identity: the user has to sign in.
  if (
    e instanceof Error &&
    /CredentialUnavailable|AuthenticationRequired|ChainedTokenCredential/i.test(`${e.name} ${e.message}`)
  ) {
    return new ServiceError(
      `no Azure AD identity to reach storage ${where} (sign in with az login, or use --connection-string): ${e.message}`,
      'AccessDenied',
      false,
    );
  }
  return e;
}
