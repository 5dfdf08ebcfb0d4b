/**
 * One entry of a zip, opened as a byte source of its own, so that a zip inside a zip (an MSIX
 * package inside the submission zip, a bundle inside an .msixupload) can be read with the same
 * reader. How depends on how the entry was stored:
 *
 * - Stored (no compression): the entry's bytes are one contiguous range of the outer zip, so
 *   reads become range reads of the outer source at an offset. Nothing is copied; a 2 GiB
 *   package costs a handful of small reads.
 * - Deflated: there is no random access into a deflate stream. The entry is inflated as a
 *   stream, front to back, keeping only a window at its end (where a zip keeps its central
 *   directory, and where MSIX tools write the manifest) and the ranges asked for. A read outside
 *   what is kept inflates the stream again up to that range. Memory stays bounded by the window
 *   and the captures, whatever the entry's size; the first pass also proves its size and CRC-32.
 */
import { Readable } from 'node:stream';
import { createInflateRaw, crc32 } from 'node:zlib';
import type { ReadStats } from './blobZip';
import {
  ByteSource,
  CentralEntry,
  METHOD_DEFLATE,
  METHOD_STORE,
  displayName,
  locateEntryData,
  zipError,
} from './format';

const MiB = 1024 * 1024;

/** A byte source that can also hand out a range as a stream, without caching what it streams. */
export interface StreamableSource extends ByteSource {
  stream?(offset: number, length: number): AsyncIterable<Buffer>;
}

export interface EntrySourceOptions {
  /** Bytes kept from the end of a deflated entry (default 16 MiB). */
  tailBytes: number;
  /** Least bytes kept around a read outside the tail, so the reads that follow it hit (default 4 MiB). */
  captureBytes: number;
  /** Captures kept at once, oldest dropped first (default 2). */
  maxCaptures: number;
}

export const DEFAULT_ENTRY_SOURCE_OPTIONS: EntrySourceOptions = {
  tailBytes: 16 * MiB,
  captureBytes: 4 * MiB,
  maxCaptures: 2,
};

/** What reading an entry cost: passes over a deflated entry and the bytes they inflated. */
export interface EntryReadStats {
  passes: number;
  inflatedBytes: number;
}

export interface EntrySource extends StreamableSource {
  readonly method: 'stored' | 'deflated';
  /** Reads served from this source (requests to it, bytes handed out): what openZip expects of a source. */
  readonly stats: ReadStats;
  readonly inflate: EntryReadStats;
  stream(offset: number, length: number): AsyncIterable<Buffer>;
}

/** A range of `src` as a stream: `src.stream` when it has one, else reads of 1 MiB each. */
export async function* streamRange(src: StreamableSource, offset: number, length: number): AsyncGenerator<Buffer> {
  if (length <= 0) return;
  if (src.stream) {
    yield* src.stream(offset, length);
    return;
  }
  for (let at = offset; at < offset + length; at += MiB) {
    yield await src.read(at, Math.min(MiB, offset + length - at));
  }
}

/**
 * The entry `e` of the zip in `src` as a byte source of its own. Refuses encrypted entries and
 * methods other than Store and Deflate; checks the local header against the central directory.
 */
export async function openEntrySource(
  src: StreamableSource,
  e: CentralEntry,
  options: Partial<EntrySourceOptions> = {},
): Promise<EntrySource> {
  const shown = displayName(e.name);
  if (e.directory) throw zipError([{ file: shown, message: 'is a folder, not a file' }]);
  if (e.flags & 0x0001) throw zipError([{ file: shown, message: 'is encrypted; save it without a password' }]);
  if (e.method !== METHOD_STORE && e.method !== METHOD_DEFLATE) {
    throw zipError([
      {
        file: shown,
        field: 'method',
        message: `is compressed with method ${e.method}; only Deflate and Store (no compression) are read`,
      },
    ]);
  }
  const start = await locateEntryData(src, e);
  if (e.method === METHOD_STORE) return new StoredEntry(src, start, e.uncompressedSize);
  return new InflatingEntry(src, start, e, { ...DEFAULT_ENTRY_SOURCE_OPTIONS, ...options });
}

class StoredEntry implements EntrySource {
  readonly method = 'stored';
  readonly stats: ReadStats = { requests: 0, bytes: 0 };
  readonly inflate: EntryReadStats = { passes: 0, inflatedBytes: 0 };

  constructor(
    private readonly parent: StreamableSource,
    private readonly start: number,
    readonly size: number,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(offset, length, this.size);
    this.stats.requests++;
    this.stats.bytes += length;
    return this.parent.read(this.start + offset, length);
  }

  stream(offset: number, length: number): AsyncIterable<Buffer> {
    checkRange(offset, length, this.size);
    return streamRange(this.parent, this.start + offset, length);
  }
}

interface Segment {
  start: number;
  data: Buffer;
}

class InflatingEntry implements EntrySource {
  readonly method = 'deflated';
  readonly stats: ReadStats = { requests: 0, bytes: 0 };
  readonly inflate: EntryReadStats = { passes: 0, inflatedBytes: 0 };
  readonly size: number;
  private tail: Segment | undefined;
  private captures: Segment[] = [];
  private readonly shown: string;

  constructor(
    private readonly parent: StreamableSource,
    private readonly start: number,
    private readonly entry: CentralEntry,
    private readonly options: EntrySourceOptions,
  ) {
    this.size = entry.uncompressedSize;
    this.shown = displayName(entry.name);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(offset, length, this.size);
    this.stats.requests++;
    this.stats.bytes += length;
    if (length === 0) return Buffer.alloc(0);
    const kept = this.kept(offset, length);
    if (kept) return kept;
    const capture: Segment = {
      start: offset,
      data: Buffer.alloc(Math.min(this.size - offset, Math.max(length, this.options.captureBytes))),
    };
    await this.pass(capture);
    this.captures.push(capture);
    while (this.captures.length > this.options.maxCaptures) this.captures.shift();
    return capture.data.subarray(0, length);
  }

  async *stream(offset: number, length: number): AsyncGenerator<Buffer> {
    checkRange(offset, length, this.size);
    const end = offset + length;
    for await (const { at, data } of this.inflated(end)) {
      const from = Math.max(offset, at);
      const to = Math.min(end, at + data.length);
      if (from < to) yield data.subarray(from - at, to - at);
    }
  }

  private kept(offset: number, length: number): Buffer | undefined {
    for (const s of [this.tail, ...this.captures]) {
      if (s && offset >= s.start && offset + length <= s.start + s.data.length) {
        return s.data.subarray(offset - s.start, offset - s.start + length);
      }
    }
    return undefined;
  }

  /** One pass that fills `capture`; the first pass also keeps the tail and runs to the end. */
  private async pass(capture: Segment): Promise<void> {
    const first = this.tail === undefined;
    const tail: Segment | undefined = first
      ? {
          start: Math.max(0, this.size - this.options.tailBytes),
          data: Buffer.alloc(Math.min(this.size, this.options.tailBytes)),
        }
      : undefined;
    const stopAt = first ? this.size : capture.start + capture.data.length;
    for await (const { at, data } of this.inflated(stopAt)) {
      copyOverlap(data, at, capture);
      if (tail) copyOverlap(data, at, tail);
    }
    if (tail) this.tail = tail;
  }

  /**
   * Inflates the entry from its start until `stopAt` bytes are out (the whole entry when
   * `stopAt` is its size, then proving its size and CRC-32), yielding each piece with its offset.
   */
  private async *inflated(stopAt: number): AsyncGenerator<{ at: number; data: Buffer }> {
    this.inflate.passes++;
    const whole = stopAt >= this.size;
    const input = Readable.from(streamRange(this.parent, this.start, this.entry.compressedSize));
    const inflater = createInflateRaw({ chunkSize: 256 * 1024 });
    input.on('error', (e) => inflater.destroy(e));
    input.pipe(inflater);
    let at = 0;
    let crc = 0;
    try {
      for await (const chunk of inflater as AsyncIterable<Buffer>) {
        if (at + chunk.length > this.size) {
          throw this.fail(
            `inflates to more than its declared ${this.size} bytes; the declared size is false`,
            'uncompressedSize',
          );
        }
        if (whole) crc = crc32(chunk, crc);
        this.inflate.inflatedBytes += chunk.length;
        yield { at, data: chunk };
        at += chunk.length;
        if (!whole && at >= stopAt) return;
      }
    } catch (e) {
      if (e instanceof Error && 'problems' in e) throw e;
      if (isStorageFailure(e)) throw e;
      throw this.fail(`the compressed data is corrupt (${(e as Error).message})`);
    } finally {
      input.unpipe(inflater);
      input.destroy();
      inflater.destroy();
    }
    if (at !== this.size) {
      throw this.fail(`declares ${this.size} bytes but holds ${at}; the declared size is false`, 'uncompressedSize');
    }
    if (whole && crc !== this.entry.crc32) {
      throw this.fail('the data does not match its CRC-32: the zip is corrupt', 'crc32');
    }
  }

  private fail(message: string, field?: string): Error {
    return zipError([{ file: this.shown, field, message }]);
  }
}

function copyOverlap(data: Buffer, at: number, into: Segment): void {
  const from = Math.max(at, into.start);
  const to = Math.min(at + data.length, into.start + into.data.length);
  if (from < to) data.copy(into.data, from - into.start, from - at, to - at);
}

function checkRange(offset: number, length: number, size: number): void {
  if (!(offset >= 0 && length >= 0 && offset + length <= size)) {
    throw new RangeError(`read of ${length} bytes at ${offset} is outside the entry's ${size} bytes`);
  }
}

/** Errors from the storage underneath (a blob that changed or went) pass through as they are. */
function isStorageFailure(e: unknown): boolean {
  return e instanceof Error && (e.name === 'SourceBlobError' || e.name === 'RestError');
}
