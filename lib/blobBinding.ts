import { ResourceFactoryResolver, type ModelBindingData } from '@azure/functions-extensions-base';
import type { BlobClient } from '@azure/storage-blob';
import { blobServiceFor } from './storage';

/**
 * The deferred ("SDK") blob binding. With `sdkBinding: true` the host passes only the
 * blob's identity (`modelBindingData`) instead of loading the whole blob into memory, and
 * `@azure/functions` asks the factory registered for its source to turn that into a
 * value. Microsoft's factory package for Node is not on the npm registry, so the app
 * registers its own: it yields a client, never the content.
 */
export const BLOB_SOURCE = 'AzureStorageBlobs';

export interface BlobReference {
  connection: string;
  containerName: string;
  blobName: string;
  client: BlobClient;
}

interface BlobBindingContent {
  Connection?: string;
  ContainerName?: string;
  BlobName?: string;
}

export function blobReferenceFrom(data: ModelBindingData | ModelBindingData[]): BlobReference {
  const one = Array.isArray(data) ? data[0] : data;
  if (!one?.content) throw new Error('The blob binding data has no content.');
  const content = JSON.parse(Buffer.from(one.content).toString('utf8')) as BlobBindingContent;
  const { Connection: connection, ContainerName: containerName, BlobName: blobName } = content;
  if (!connection || !containerName || !blobName) {
    throw new Error('The blob binding data lacks Connection, ContainerName or BlobName.');
  }
  const client = blobServiceFor(connection).getContainerClient(containerName).getBlobClient(blobName);
  return { connection, containerName, blobName, client };
}

export function registerBlobBindingFactory(): void {
  const resolver = ResourceFactoryResolver.getInstance();
  if (!resolver.hasResourceFactory(BLOB_SOURCE)) resolver.registerResourceFactory(BLOB_SOURCE, blobReferenceFrom);
}
