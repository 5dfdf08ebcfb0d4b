/**
 * A zip on the local disk, read through the same reader and checks the pipeline applies to a
 * zip in blob storage (`openZip` + `readSubmission`): `validate` and `pack` then judge a zip
 * exactly as a run will.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { readSubmission, SUBMISSION_ZIP_LIMITS } from '../lib/manifest';
import { openZip, type RangeReader, type ReadStats } from '../lib/zip/blobZip';
import { zipError } from '../lib/zip/format';
import type { Manifest } from '../lib/manifest';
import type { ZipEntryInfo } from '../lib/zip/format';

class FileRangeReader implements RangeReader {
  readonly stats: ReadStats = { requests: 0, bytes: 0 };
  constructor(
    private readonly file: FileHandle,
    readonly size: number,
    private readonly label: string,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || offset + length > this.size) {
      throw zipError([
        { file: this.label, message: 'the zip is truncated or corrupt: it points past the end of the file' },
      ]);
    }
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.file.read(out, done, length - done, offset + done);
      if (bytesRead === 0)
        throw zipError([{ file: this.label, message: 'the file got shorter while it was being read' }]);
      done += bytesRead;
    }
    this.stats.requests++;
    this.stats.bytes += length;
    return out;
  }

  /** A long range straight from the file, nothing kept (a deflated package is inflated from it). */
  async *stream(offset: number, length: number): AsyncGenerator<Buffer> {
    if (length <= 0) return;
    this.stats.requests++;
    const stream = this.file.createReadStream({
      start: offset,
      end: offset + length - 1,
      autoClose: false,
      highWaterMark: 1024 * 1024,
    });
    let received = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      received += chunk.length;
      this.stats.bytes += chunk.length;
      yield chunk;
    }
    if (received !== length)
      throw zipError([{ file: this.label, message: 'the file got shorter while it was being read' }]);
  }
}

export interface LocalSubmission {
  manifest: Manifest;
  entries: ZipEntryInfo[];
  size: number;
}

/** Reads and validates `path` as the pipeline would; throws the pipeline's InputError listing the problems. */
export async function readLocalSubmission(path: string, label = path): Promise<LocalSubmission> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const zip = await openZip(new FileRangeReader(file, size, label), label, SUBMISSION_ZIP_LIMITS);
    const { manifest, entries } = await readSubmission(zip);
    return { manifest, entries, size };
  } finally {
    await file.close();
  }
}
