import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import {
  BlobServiceClient,
  type BlobClient,
  type ContainerClient,
  type StorageRetryOptions,
} from '@azure/storage-blob';
import { ConfigurationError } from './errors';
import { config } from './config';

/**
 * The storage SDK's own retry policy, the one layer inside an activity that retries a storage
 * request (500, 503, network errors), for every storage client the app makes: the user's zips,
 * reports, queue blobs, and the Store's upload URL (lib/upload.ts). Tries wait 0 s, 2 s, 6 s
 * (the SDK's exponential); what outlasts them goes up to the durable step. The whole budget is
 * in docs/architecture.md.
 */
export const STORAGE_RETRY: Readonly<StorageRetryOptions> = Object.freeze({
  maxTries: 4,
  retryDelayInMs: 2_000,
  maxRetryDelayInMs: 30_000,
});

const services = new Map<string, BlobServiceClient>();

/**
 * A blob service client for a connection setting, resolved the way the Functions host
 * resolves a binding's `connection`: either the setting holds a connection string, or
 * `<NAME>__blobServiceUri` / `<NAME>__serviceUri` names the account for an identity-based
 * connection (managed identity, optionally user-assigned with `<NAME>__clientId`).
 */
export function blobServiceFor(connectionSetting: string, env: NodeJS.ProcessEnv = process.env): BlobServiceClient {
  const cached = services.get(connectionSetting);
  if (cached) return cached;
  const connectionString = env[connectionSetting]?.trim();
  const serviceUri =
    env[`${connectionSetting}__blobServiceUri`]?.trim() || env[`${connectionSetting}__serviceUri`]?.trim();
  let service: BlobServiceClient;
  if (connectionString) {
    service = BlobServiceClient.fromConnectionString(connectionString, { retryOptions: STORAGE_RETRY });
  } else if (serviceUri) {
    service = new BlobServiceClient(serviceUri, identityFor(connectionSetting, env), { retryOptions: STORAGE_RETRY });
  } else {
    throw new ConfigurationError(
      `The storage connection ${connectionSetting} is not configured: set ${connectionSetting} to a connection string, or ${connectionSetting}__blobServiceUri for an identity-based connection.`,
    );
  }
  services.set(connectionSetting, service);
  return service;
}

function identityFor(connectionSetting: string, env: NodeJS.ProcessEnv): TokenCredential {
  const clientId = env[`${connectionSetting}__clientId`]?.trim();
  if (env[`${connectionSetting}__credential`]?.trim() === 'managedidentity' || clientId) {
    return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
  }
  return new DefaultAzureCredential();
}

export function submissionsContainer(): ContainerClient {
  const c = config();
  return blobServiceFor(c.submissionsStorage).getContainerClient(c.submissionsContainer);
}

export function reportsContainer(): ContainerClient {
  const c = config();
  return blobServiceFor(c.submissionsStorage).getContainerClient(c.reportsContainer);
}

export function submissionBlob(name: string): BlobClient {
  return submissionsContainer().getBlobClient(name);
}

/** Metadata keys the product writes on a zip at the end of its run (Azure lower-cases them). */
export const ZIP_METADATA = {
  instanceId: 'storesubmitterinstance',
  outcome: 'storesubmitteroutcome',
  report: 'storesubmitterreport',
  /** The ETag the run read; setting metadata changes the ETag, so the run's version is kept here. */
  etag: 'storesubmitteretag',
} as const;
