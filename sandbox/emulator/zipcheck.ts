import { RestError, type BlobClient } from '@azure/storage-blob';
import { Reader, ZipReader, configure } from '@zip.js/zip.js';

configure({ useWebWorkers: false });

export type ZipInspection =
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'ok'; entries: string[]; size: number; rangeReads: number };

/**
 * Ranged reads of one blob version: the ETag is pinned, so a zip replaced while it is being read fails
 * the check instead of mixing two archives.
 */
export class BlobRangeReader extends Reader<BlobClient> {
  rangeReads = 0;

  constructor(
    private readonly blob: BlobClient,
    private readonly etag: string,
    size: number,
  ) {
    super(blob);
    this.size = size;
  }

  override async readUint8Array(index: number, length: number): Promise<Uint8Array> {
    const count = Math.max(0, Math.min(length, this.size - index));
    if (count === 0) return new Uint8Array(0);
    this.rangeReads++;
    const response = await this.blob.download(index, count, { conditions: { ifMatch: this.etag } });
    const chunks: Buffer[] = [];
    for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  }
}

/** Lists the entries of the zip in `blob` from its central directory, without downloading the archive. */
export async function inspectZip(blob: BlobClient): Promise<ZipInspection> {
  let size: number;
  let etag: string;
  try {
    const props = await blob.getProperties();
    size = props.contentLength ?? 0;
    etag = props.etag ?? '*';
  } catch (e) {
    if (e instanceof RestError && e.statusCode === 404) return { kind: 'missing' };
    throw e;
  }
  if (size === 0) return { kind: 'invalid', reason: 'The uploaded file is empty.' };
  const reader = new BlobRangeReader(blob, etag, size);
  const zip = new ZipReader(reader, { useWebWorkers: false });
  try {
    const entries = await zip.getEntries();
    return {
      kind: 'ok',
      entries: entries.filter((e) => !e.directory).map((e) => e.filename),
      size,
      rangeReads: reader.rangeReads,
    };
  } catch (e) {
    if (e instanceof RestError) throw e;
    return { kind: 'invalid', reason: (e as Error).message };
  } finally {
    await zip.close().catch(() => undefined);
  }
}
