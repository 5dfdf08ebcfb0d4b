/**
 * A streaming zip writer: entries go to `out` one after another and only the central directory
 * (a few dozen bytes per entry) is kept in memory. Entries from streams carry their CRC and sizes
 * in a data descriptor after the data, since neither is known before the data has passed.
 */
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw, crc32, deflateRawSync } from 'node:zlib';
import {
  FLAG_DATA_DESCRIPTOR,
  FLAG_UTF8,
  METHOD_DEFLATE,
  METHOD_STORE,
  SIG_CENTRAL,
  SIG_DATA_DESCRIPTOR,
  SIG_EOCD,
  SIG_LOCAL,
  SIG_ZIP64_EOCD,
  SIG_ZIP64_LOCATOR,
  unsafeNameReason,
} from './format';

export interface ZipWriterEntry {
  /** Path inside the zip, folders separated by "/". */
  name: string;
  data: Buffer | (() => NodeJS.ReadableStream);
  /** Required for streams: the number of bytes the stream will yield (checked). */
  size?: number;
  /** Deflate the entry (default: false, stored as is). A Buffer that does not shrink is stored. */
  compress?: boolean;
}

export interface ZipWriterOptions {
  /** Write zip64 records even when nothing needs them (tests use this to exercise zip64 readers). */
  forceZip64?: boolean;
}

const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
// 1980-01-01 00:00, the earliest MS-DOS timestamp: identical input gives an identical zip.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

interface Written {
  nameBytes: Buffer;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  offset: number;
}

/** Streams a zip to `out` (never holds it all in memory): entries from Buffers or from streams with known size; STORE or DEFLATE; zip64 when sizes/offsets need it. Ends `out`. */
export async function writeZip(
  entries: ZipWriterEntry[],
  out: NodeJS.WritableStream,
  options: ZipWriterOptions = {},
): Promise<{ bytes: number }> {
  const force = options.forceZip64 === true;
  let bytes = 0;
  const write = async (chunk: Buffer): Promise<void> => {
    bytes += chunk.length;
    if (!out.write(chunk)) await once(out as unknown as NodeJS.EventEmitter, 'drain');
  };

  const seen = new Set<string>();
  for (const e of entries) {
    const unsafe = unsafeNameReason(e.name);
    if (unsafe) throw new Error(`zip entry "${e.name}": ${unsafe}`);
    if (seen.has(e.name)) throw new Error(`zip entry "${e.name}" is given twice`);
    seen.add(e.name);
    if (!Buffer.isBuffer(e.data) && (e.size === undefined || !Number.isSafeInteger(e.size) || e.size < 0)) {
      throw new Error(`zip entry "${e.name}": a stream needs its size`);
    }
  }

  const written: Written[] = [];
  for (const e of entries) {
    const nameBytes = Buffer.from(e.name, 'utf8');
    const offset = bytes;
    if (Buffer.isBuffer(e.data)) {
      const crc = crc32(e.data);
      const deflated = e.compress ? deflateRawSync(e.data) : undefined;
      const useDeflate = deflated !== undefined && deflated.length < e.data.length;
      const payload = useDeflate ? deflated : e.data;
      const w: Written = {
        nameBytes,
        flags: FLAG_UTF8,
        method: useDeflate ? METHOD_DEFLATE : METHOD_STORE,
        crc,
        compressedSize: payload.length,
        uncompressedSize: e.data.length,
        offset,
      };
      await write(localHeader(w, force || payload.length >= MAX32 || e.data.length >= MAX32, false));
      await write(payload);
      written.push(w);
    } else {
      const size = e.size!;
      const method = e.compress ? METHOD_DEFLATE : METHOD_STORE;
      // Deflate can grow incompressible data slightly, so leave room before switching to zip64.
      const zip64 = force || size >= MAX32 - (method === METHOD_DEFLATE ? 64 * 1024 * 1024 : 0);
      const w: Written = {
        nameBytes,
        flags: FLAG_UTF8 | FLAG_DATA_DESCRIPTOR,
        method,
        crc: 0,
        compressedSize: 0,
        uncompressedSize: 0,
        offset,
      };
      await write(localHeader(w, zip64, true));
      let crc = 0;
      let raw = 0;
      const tap = async function* (source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
        for await (const chunk of source) {
          const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          crc = crc32(b, crc);
          raw += b.length;
          yield b;
        }
      };
      const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
        for await (const chunk of source) {
          w.compressedSize += chunk.length;
          await write(chunk);
        }
      };
      const input = e.data() as unknown as NodeJS.ReadableStream & AsyncIterable<Buffer>;
      if (method === METHOD_DEFLATE) await pipeline(input, tap, createDeflateRaw(), sink);
      else await pipeline(input, tap, sink);
      if (raw !== size)
        throw new Error(`zip entry "${e.name}": the stream yielded ${raw} bytes, not the ${size} announced`);
      w.crc = crc;
      w.uncompressedSize = raw;
      await write(dataDescriptor(w, zip64));
      written.push(w);
    }
  }

  const cdOffset = bytes;
  for (const w of written) await write(centralHeader(w, force));
  const cdSize = bytes - cdOffset;
  if (force || written.length >= MAX16 || cdOffset >= MAX32 || cdSize >= MAX32) {
    const z64At = bytes;
    const z64 = Buffer.alloc(56);
    z64.writeUInt32LE(SIG_ZIP64_EOCD, 0);
    z64.writeBigUInt64LE(44n, 4);
    z64.writeUInt16LE(45, 12);
    z64.writeUInt16LE(45, 14);
    z64.writeBigUInt64LE(BigInt(written.length), 24);
    z64.writeBigUInt64LE(BigInt(written.length), 32);
    z64.writeBigUInt64LE(BigInt(cdSize), 40);
    z64.writeBigUInt64LE(BigInt(cdOffset), 48);
    await write(z64);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(SIG_ZIP64_LOCATOR, 0);
    locator.writeBigUInt64LE(BigInt(z64At), 8);
    locator.writeUInt32LE(1, 16);
    await write(locator);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(SIG_EOCD, 0);
  eocd.writeUInt16LE(Math.min(written.length, MAX16), 8);
  eocd.writeUInt16LE(Math.min(written.length, MAX16), 10);
  eocd.writeUInt32LE(force ? MAX32 : Math.min(cdSize, MAX32), 12);
  eocd.writeUInt32LE(force ? MAX32 : Math.min(cdOffset, MAX32), 16);
  await write(eocd);

  const finished = once(out as unknown as NodeJS.EventEmitter, 'finish');
  out.end();
  await finished;
  return { bytes };
}

function localHeader(w: Written, zip64: boolean, deferred: boolean): Buffer {
  const extra = zip64
    ? zip64Extra([deferred ? 0 : w.uncompressedSize, deferred ? 0 : w.compressedSize])
    : Buffer.alloc(0);
  const h = Buffer.alloc(30);
  h.writeUInt32LE(SIG_LOCAL, 0);
  h.writeUInt16LE(zip64 ? 45 : 20, 4);
  h.writeUInt16LE(w.flags, 6);
  h.writeUInt16LE(w.method, 8);
  h.writeUInt16LE(DOS_TIME, 10);
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(deferred ? 0 : w.crc, 14);
  h.writeUInt32LE(zip64 ? MAX32 : deferred ? 0 : w.compressedSize, 18);
  h.writeUInt32LE(zip64 ? MAX32 : deferred ? 0 : w.uncompressedSize, 22);
  h.writeUInt16LE(w.nameBytes.length, 26);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, w.nameBytes, extra]);
}

function dataDescriptor(w: Written, zip64: boolean): Buffer {
  const d = Buffer.alloc(zip64 ? 24 : 16);
  d.writeUInt32LE(SIG_DATA_DESCRIPTOR, 0);
  d.writeUInt32LE(w.crc, 4);
  if (zip64) {
    d.writeBigUInt64LE(BigInt(w.compressedSize), 8);
    d.writeBigUInt64LE(BigInt(w.uncompressedSize), 16);
  } else {
    d.writeUInt32LE(w.compressedSize, 8);
    d.writeUInt32LE(w.uncompressedSize, 12);
  }
  return d;
}

function centralHeader(w: Written, force: boolean): Buffer {
  const big = (v: number): boolean => force || v >= MAX32;
  const fields = [
    ...(big(w.uncompressedSize) ? [w.uncompressedSize] : []),
    ...(big(w.compressedSize) ? [w.compressedSize] : []),
    ...(big(w.offset) ? [w.offset] : []),
  ];
  const extra = fields.length ? zip64Extra(fields) : Buffer.alloc(0);
  const h = Buffer.alloc(46);
  h.writeUInt32LE(SIG_CENTRAL, 0);
  h.writeUInt16LE(fields.length ? 45 : 20, 4);
  h.writeUInt16LE(fields.length ? 45 : 20, 6);
  h.writeUInt16LE(w.flags, 8);
  h.writeUInt16LE(w.method, 10);
  h.writeUInt16LE(DOS_TIME, 12);
  h.writeUInt16LE(DOS_DATE, 14);
  h.writeUInt32LE(w.crc, 16);
  h.writeUInt32LE(big(w.compressedSize) ? MAX32 : w.compressedSize, 20);
  h.writeUInt32LE(big(w.uncompressedSize) ? MAX32 : w.uncompressedSize, 24);
  h.writeUInt16LE(w.nameBytes.length, 28);
  h.writeUInt16LE(extra.length, 30);
  h.writeUInt32LE(big(w.offset) ? MAX32 : w.offset, 42);
  return Buffer.concat([h, w.nameBytes, extra]);
}

function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return b;
}
