import { RestError, type ContainerClient } from '@azure/storage-blob';
import { config } from './config';
import type { ProductQueue } from './productQueue';
import { blobServiceFor } from './storage';

/** Holds one JSON blob per product queue, beside the zips. */
export const QUEUES_CONTAINER = 'store-submitter-queues';

export function queuesContainer(): ContainerClient {
  return blobServiceFor(config().submissionsStorage).getContainerClient(QUEUES_CONTAINER);
}

/**
 * Reads the product's queue, applies `change`, and writes it back only if nobody wrote in
 * between (If-Match on the ETag read, If-None-Match for a new queue); a lost race reads again.
 */
export async function updateQueue<T>(
  container: ContainerClient,
  key: string,
  change: (queue: ProductQueue) => { queue: ProductQueue; result: T },
): Promise<T> {
  const blob = container.getBlockBlobClient(`${key}.json`);
  for (let attempt = 1; ; attempt++) {
    let queue: ProductQueue = { key, entries: [] };
    let etag: string | undefined;
    try {
      // Content and ETag from one response, so the write is conditioned on what was read.
      const response = await blob.download();
      etag = response.etag;
      queue = JSON.parse((await readAll(response.readableStreamBody)).toString('utf8')) as ProductQueue;
    } catch (e) {
      if (!(e instanceof RestError && e.statusCode === 404)) throw e;
      await container.createIfNotExists();
    }
    const { queue: next, result } = change(queue);
    if (next === queue) return result;
    const body = JSON.stringify(next);
    try {
      await blob.upload(body, Buffer.byteLength(body), {
        conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
      return result;
    } catch (e) {
      const lostRace = e instanceof RestError && (e.statusCode === 412 || e.statusCode === 409);
      if (!lostRace || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80 * attempt));
    }
  }
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  if (stream) for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
