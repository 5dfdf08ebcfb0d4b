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

/**
 * What the deferred binding gave, or a clear failure. The host skips deferral without a word
 * when another binding of the function holds a `{...}` expression
 * (WorkerFunctionDescriptorProvider.cs:69-75) and then hands over the whole blob as bytes: the
 * run could not pin the zip's version, and a multi-GB zip would fill the worker's memory.
 */
export function blobReferenceOrFail(blob: unknown, name?: unknown): BlobReference {
  const ref = blob as Partial<BlobReference> | null | undefined;
  if (ref && typeof ref === 'object' && ref.client && typeof ref.blobName === 'string' && ref.containerName)
    return ref as BlobReference;
  const what =
    Buffer.isBuffer(blob) || blob instanceof Uint8Array || blob instanceof ArrayBuffer
      ? `the blob's bytes (${(blob as { byteLength: number }).byteLength} bytes)`
      : typeof blob === 'string'
        ? `the blob's content as text (${blob.length} characters)`
        : blob === undefined || blob === null
          ? 'no value'
          : `a value of type ${typeof blob}`;
  const trigger = typeof name === 'string' && name ? ` for ${name}.zip` : '';
  throw new Error(
    `The blob trigger got ${what}${trigger} instead of a blob reference: the host did not defer the binding ` +
      '(sdkBinding). This happens when another binding of the function uses a {...} expression; keep the ' +
      'trigger the only binding with one. Nothing was started.',
  );
}

export function registerBlobBindingFactory(): void {
  const resolver = ResourceFactoryResolver.getInstance();
  if (!resolver.hasResourceFactory(BLOB_SOURCE)) resolver.registerResourceFactory(BLOB_SOURCE, blobReferenceFrom);
}
