import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';

/** Resolves `%NAME%` placeholders of binding expressions from app settings, as the host does. */
export function resolveSettingExpressions(text: string, env: NodeJS.ProcessEnv, what: string): string {
  return text.replace(/%([^%]+)%/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined || value === '')
      throw new Error(`${what}: app setting '${name}' (used as %${name}%) is not set`);
    return value;
  });
}

/**
 * A storage connection named by a binding's `connection` (default `AzureWebJobsStorage`).
 * Connection strings and `UseDevelopmentStorage=true` are supported; identity-based
 * connections (`NAME__serviceUri`, `NAME__blobServiceUri`) are not, and say so.
 */
export function connectionString(name: string | undefined, env: NodeJS.ProcessEnv, what: string): string {
  const setting = name && name.length > 0 ? name : 'AzureWebJobsStorage';
  const value = env[setting] ?? env[`AzureWebJobs${setting}`];
  if (value) return value;
  if (env[`${setting}__serviceUri`] || env[`${setting}__blobServiceUri`] || env[`${setting}__accountName`]) {
    throw new Error(
      `${what}: identity-based connection '${setting}__...' is not implemented by the sandbox host; give '${setting}' a connection string`,
    );
  }
  throw new Error(`${what}: storage connection setting '${setting}' is not set`);
}

export function blobService(conn: string): BlobServiceClient {
  return BlobServiceClient.fromConnectionString(conn);
}

export function queueService(conn: string): QueueServiceClient {
  return QueueServiceClient.fromConnectionString(conn);
}

/** Container names allow lower-case letters, digits and single hyphens, 3 to 63 characters. */
export function containerNameFor(prefix: string, suffix: string): string {
  const base =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 63 - suffix.length - 1) || 'hub';
  return `${base}-${suffix}`;
}
