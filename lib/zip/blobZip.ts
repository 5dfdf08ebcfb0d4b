/**
 * Reads a zip that sits in blob storage with range reads only: one read from the head (which
 * also tells the blob's size), one from the tail (the central directory of a typical zip), and
 * any piece still missing on demand. Every read is pinned to the ETag the caller saw, so the
 * zip cannot change under the reader.
 */
import type { BlobClient } from '@azure/storage-blob';
import { SourceBlobError } from '../errors';
import { type EntrySource, type EntrySourceOptions, openEntrySource, type StreamableSource } from './entrySource';
import {
  CentralEntry,
  DEFAULT_ZIP_LIMITS,
  readCentralDirectory,
  readEntryBytes,
  readEntryHead,
  zipError,
  ZipEntryInfo,
  ZipLimits,
} from './format';

export type { ZipEntryInfo, ZipLimits } from './format';
export type { EntrySource, EntrySourceOptions } from './entrySource';
export { DEFAULT_ZIP_LIMITS, unsafeNameReason } from './format';

export interface ReadStats {
  requests: number;
  bytes: number;
}

export interface BlobZip {
  size: number;
  entries: ZipEntryInfo[];
  /** Live counters: they grow as `readEntryText` reads. */
  stats: ReadStats;
  /** The entry's bytes, inflating at most `maxBytes`; throws InputError on a false size or CRC. */
  readEntryText(name: string, maxBytes: number): Promise<Buffer>;
  /**
   * The entry as a byte source of its own (a zip inside the zip): a stored entry is read in
   * place by range reads, a deflated one is inflated as a stream with bounded memory.
   */
  openEntry(name: string, options?: Partial<EntrySourceOptions>): Promise<EntrySource>;
  /** The entry's first `bytes` bytes (a file signature, a PNG header), without reading or inflating the rest. */
  readEntryHead(name: string, bytes: number): Promise<Buffer>;
}

/**
 * Reads the central directory of the zip in `blob`, pinned to `etag` (If-Match on every range
 * read; 412 → SourceBlobError 'BlobChanged'; 404 → 'BlobNotFound'). Never downloads the whole
 * blob, unless it is smaller than the two prefetches together (~1 MiB by default).
 */
export async function openBlobZip(blob: BlobClient, etag: string, limits?: Partial<ZipLimits>): Promise<BlobZip> {
  const effective: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...limits };
  const source = await BlobRangeSource.open(blob, etag, effective.headPrefetchBytes);
  await source.prefetchTail(effective.tailPrefetchBytes);
  return openZip(source, blobLabel(blob), effective);
}

/**
 * Where a zip's bytes come from: its size, range reads, and counters of what was read. `stream`,
 * when there, hands out a long range without keeping it (inflating a multi-GB entry must not
 * hold it in memory); without it, long ranges are read piece by piece.
 */
export interface RangeReader extends StreamableSource {
  readonly stats: ReadStats;
}

/**
 * The zip in `source`, read and checked as `openBlobZip` does: the CLI passes a local file,
 * so `validate` runs the pipeline's own checks. `label` names the zip in whole-zip problems.
 */
export async function openZip(source: RangeReader, label: string, limits?: Partial<ZipLimits>): Promise<BlobZip> {
  const effective: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...limits };
  const cd = await readCentralDirectory(source, effective, label);
  const byName = new Map<string, CentralEntry>();
  for (const e of cd.entries) byName.set(e.name, e);
  return {
    size: source.size,
    entries: cd.entries.map(({ name, directory, compressedSize, uncompressedSize, cp437 }) => ({
      name,
      directory,
      compressedSize,
      uncompressedSize,
      ...(cp437 ? { cp437 } : {}),
    })),
    stats: source.stats,
    async readEntryText(name: string, maxBytes: number): Promise<Buffer> {
      const entry = byName.get(name);
      if (!entry) throw zipError([{ file: name, message: `is not in the zip ${label}` }]);
      return readEntryBytes(source, entry, maxBytes);
    },
    async openEntry(name: string, options?: Partial<EntrySourceOptions>): Promise<EntrySource> {
      const entry = byName.get(name);
      if (!entry) throw zipError([{ file: name, message: `is not in the zip ${label}` }]);
      return openEntrySource(source, entry, options);
    },
    async readEntryHead(name: string, bytes: number): Promise<Buffer> {
      const entry = byName.get(name);
      if (!entry) throw zipError([{ file: name, message: `is not in the zip ${label}` }]);
      return readEntryHead(source, entry, bytes);
    },
  };
}

/** container/name: never the URL, which may carry a SAS signature. */
export function blobLabel(blob: BlobClient): string {
  return `${blob.containerName}/${blob.name}`;
}

/** A read-through cache of byte ranges over one pinned blob version. */
class BlobRangeSource implements RangeReader {
  readonly stats: ReadStats = { requests: 0, bytes: 0 };
  private readonly segments: Array<{ start: number; data: Buffer }> = [];
  size = 0;

  private constructor(
    private readonly blob: BlobClient,
    private readonly etag: string,
  ) {}

  static async open(blob: BlobClient, etag: string, headBytes: number): Promise<BlobRangeSource> {
    const source = new BlobRangeSource(blob, etag);
    try {
      const head = await source.download(0, Math.max(headBytes, 4));
      source.size = head.total;
      source.segments.push({ start: 0, data: head.data });
    } catch (e) {
      // A range read of an empty blob is "416 Range Not Satisfiable"; ask for its size instead.
      if (statusOf(e) !== 416) throw await source.explain(e);
      const props = await source.blob.getProperties({ conditions: { ifMatch: etag } }).catch(async (err) => {
        throw await source.explain(err);
      });
      source.stats.requests++;
      source.size = props.contentLength ?? 0;
    }
    return source;
  }

  /** Reads the last `bytes` of the blob, or what the head read left of them, as one segment with the head when they meet. */
  async prefetchTail(bytes: number): Promise<void> {
    const head = this.segments[0];
    const headEnd = head ? head.start + head.data.length : 0;
    const start = Math.max(this.size - bytes, headEnd);
    if (start >= this.size) return;
    const tail = await this.read(start, this.size - start);
    if (head && start === headEnd)
      this.segments.splice(0, this.segments.length, { start: 0, data: Buffer.concat([head.data, tail]) });
  }

  async read(offset: number, length: number): Promise<Buffer> {
    if (length === 0) return Buffer.alloc(0);
    if (offset < 0 || offset + length > this.size) {
      throw zipError([
        { file: blobLabel(this.blob), message: 'the zip is truncated or corrupt: it points past the end of the blob' },
      ]);
    }
    for (const s of this.segments) {
      if (offset >= s.start && offset + length <= s.start + s.data.length) {
        return s.data.subarray(offset - s.start, offset - s.start + length);
      }
    }
    const got = await this.download(offset, length).catch(async (e) => {
      throw await this.explain(e);
    });
    if (got.data.length !== length) {
      throw new SourceBlobError(
        `${blobLabel(this.blob)}: a range read returned ${got.data.length} bytes instead of ${length}`,
        'BlobUnreadable',
      );
    }
    this.segments.push({ start: offset, data: got.data });
    return got.data;
  }

  /** A range as a stream of the download's own chunks: nothing is cached (the read cache is for small pieces). */
  async *stream(offset: number, length: number): AsyncGenerator<Buffer> {
    if (length <= 0) return;
    if (offset < 0 || offset + length > this.size) {
      throw zipError([
        { file: blobLabel(this.blob), message: 'the zip is truncated or corrupt: it points past the end of the blob' },
      ]);
    }
    this.stats.requests++;
    const res = await this.blob.download(offset, length, { conditions: { ifMatch: this.etag } }).catch(async (e) => {
      throw await this.explain(e);
    });
    let received = 0;
    try {
      for await (const chunk of res.readableStreamBody ?? []) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        received += b.length;
        this.stats.bytes += b.length;
        yield b;
      }
    } catch (e) {
      throw await this.explain(e);
    }
    if (received !== length) {
      throw new SourceBlobError(
        `${blobLabel(this.blob)}: a range read returned ${received} bytes instead of ${length}`,
        'BlobUnreadable',
      );
    }
  }

  private async download(offset: number, count: number): Promise<{ data: Buffer; total: number }> {
    this.stats.requests++;
    const res = await this.blob.download(offset, count, { conditions: { ifMatch: this.etag } });
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of res.readableStreamBody ?? []) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(b);
      received += b.length;
      this.stats.bytes += b.length;
    }
    const data = Buffer.concat(chunks, received);
    const total = Number(/\/(\d+)$/.exec(res.contentRange ?? '')?.[1] ?? (offset === 0 ? data.length : NaN));
    if (!Number.isFinite(total))
      throw new SourceBlobError(
        `${blobLabel(this.blob)}: the range read did not say the blob's size`,
        'BlobUnreadable',
      );
    return { data, total };
  }

  /** Turns a storage failure into the SourceBlobError the pipeline acts on; other failures pass through. */
  private async explain(e: unknown): Promise<unknown> {
    const label = blobLabel(this.blob);
    const status = statusOf(e);
    if (status === 404) return new SourceBlobError(`${label} was not found`, 'BlobNotFound');
    if (status === 412) {
      // If-Match on a missing blob also answers 412: tell "gone" from "replaced".
      const exists = await this.blob.exists().catch(() => true);
      this.stats.requests++;
      return exists
        ? new SourceBlobError(
            `${label} changed while it was being read (its ETag is no longer ${this.etag})`,
            'BlobChanged',
          )
        : new SourceBlobError(`${label} was not found (deleted after it was announced)`, 'BlobNotFound');
    }
    if (status === 401 || status === 403) {
      return new SourceBlobError(`${label} cannot be read: access denied (HTTP ${status})`, 'BlobUnreadable');
    }
    return e;
  }
}

function statusOf(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null ? (e as { statusCode?: number }).statusCode : undefined;
}

/** A zip held in memory (a request's body), read as a blob's is. */
export class BufferRangeReader implements RangeReader {
  readonly stats: ReadStats = { requests: 0, bytes: 0 };
  constructor(
    private readonly bytes: Buffer,
    private readonly label: string,
  ) {}

  get size(): number {
    return this.bytes.length;
  }

  read(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length)
      return Promise.reject(
        zipError([{ file: this.label, message: 'the zip is truncated or corrupt: it points past its end' }]),
      );
    this.stats.requests++;
    this.stats.bytes += length;
    return Promise.resolve(this.bytes.subarray(offset, offset + length));
  }
}
