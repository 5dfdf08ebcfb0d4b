/**
 * The zip format as this project reads it: end-of-central-directory records (zip64 included),
 * central-directory entries, and the safety rules every entry must pass. Works over any
 * `ByteSource`, so the blob reader and the unit tests share it.
 */
import { constants as zlibConstants, crc32, inflateRawSync } from 'node:zlib';
import { InputError, InputProblem, readingInput } from '../errors';
import { firstInvalidUtf8 } from './utf8';

export interface ZipEntryInfo {
  name: string;
  directory: boolean;
  compressedSize: number;
  uncompressedSize: number;
  /**
   * The name has bytes above 127, no UTF-8 flag and is not valid UTF-8: it was read as IBM code
   * page 437, as the zip format says. Right for old DOS tools; wrong for a Latin-1 (Windows-1252)
   * name, whose "é" then reads "Θ" — so messages about such names say how they were read.
   */
  cp437?: true;
}

/** What the reader knows about an entry beyond the public facts; stays inside lib/zip. */
export interface CentralEntry extends ZipEntryInfo {
  flags: number;
  method: number;
  crc32: number;
  localHeaderOffset: number;
  /** Raw name bytes, compared with the local header's to catch a zip that names a file twice differently. */
  rawName: Buffer;
  centralExtraLength: number;
}

export interface ZipLimits {
  /** A central directory above this is refused before it is read. */
  maxCentralDirectoryBytes: number;
  maxEntries: number;
  /** Sum of declared uncompressed sizes. Bundles reach 25 GB, 25 packages per track. */
  maxTotalUncompressedBytes: number;
  /** Uncompressed/compressed above this marks a zip bomb; deflate cannot exceed ~1032. */
  maxCompressionRatio: number;
  /** Entries smaller than this are not judged by ratio: a few KiB of zeros is not a threat. */
  ratioFloorBytes: number;
  /** First read of the blob; it also tells the size. A zip this small costs one request. */
  headPrefetchBytes: number;
  /** Second read, from the end: holds the central directory of a typical zip. */
  tailPrefetchBytes: number;
  /**
   * An entry name longer than this (in UTF-16 code units, as Windows counts) is refused:
   * Windows' MAX_PATH without the long-path opt-in, which the Store's tools on Windows meet.
   * https://learn.microsoft.com/windows/win32/fileio/maximum-file-path-limitation
   */
  maxNameLength: number;
  /** One folder or file name inside an entry name: NTFS allows 255 (same page). */
  maxNameSegmentLength: number;
  /**
   * Entries the caller will read into memory, with their own size limit. Such an entry is
   * judged by that limit, not as a possible bomb: a 2 MiB manifest of blanks is too big, not hostile.
   */
  entryLimits: Readonly<Record<string, number>>;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxCentralDirectoryBytes: 64 * 1024 * 1024,
  maxEntries: 100_000,
  maxTotalUncompressedBytes: 1024 ** 4,
  maxCompressionRatio: 1000,
  ratioFloorBytes: 1024 * 1024,
  headPrefetchBytes: 64 * 1024,
  tailPrefetchBytes: 256 * 1024,
  maxNameLength: 260,
  maxNameSegmentLength: 255,
  entryLimits: {},
};

export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
export const SIG_DATA_DESCRIPTOR = 0x08074b50;
export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_UTF8 = 0x0800;
export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;
export const LOCAL_HEADER_SIZE = 30;
const CENTRAL_HEADER_SIZE = 46;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const MAX_COMMENT = 0xffff;
const EXTRA_ZIP64 = 0x0001;
const EXTRA_UNICODE_PATH = 0x7075;

export const zipError = (problems: InputProblem[]): InputError => new InputError(problems, 'InvalidZip');

export interface CentralDirectory {
  entries: CentralEntry[];
  offset: number;
  size: number;
}

/**
 * Finds and checks the central directory. Throws InputError listing every problem it can see
 * (unsafe or duplicate names, sizes that cannot be true, bombs), naming `label` (the blob)
 * for whole-zip problems and the entry for entry problems.
 */
export async function readCentralDirectory(
  src: ByteSource,
  limits: ZipLimits,
  label: string,
): Promise<CentralDirectory> {
  const whole = (message: string, field?: string): InputError => zipError([{ file: label, field, message }]);
  if (src.size === 0) throw whole('the blob is empty (0 bytes), not a zip');

  const tailLength = Math.min(src.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = src.size - tailLength;
  const tail = await src.read(tailStart, tailLength);
  const eocdAt = findEocd(tail);
  if (eocdAt < 0) {
    const head = await src.read(0, Math.min(4, src.size));
    if (head.length === 4 && head.readUInt32LE(0) === SIG_LOCAL) {
      throw whole(
        'the zip is truncated: it starts like a zip but its end (the central directory) is missing; upload it again',
      );
    }
    throw whole('is not a zip file (no zip end-of-central-directory record found)');
  }
  const eocdPos = tailStart + eocdAt;
  const eocd = tail.subarray(eocdAt, eocdAt + EOCD_SIZE);
  let disk = eocd.readUInt16LE(4);
  let cdDisk = eocd.readUInt16LE(6);
  let count = eocd.readUInt16LE(10);
  let cdSize = eocd.readUInt32LE(12);
  let cdOffset = eocd.readUInt32LE(16);
  let cdLimit = eocdPos;

  const locatorPos = eocdPos - ZIP64_LOCATOR_SIZE;
  if (locatorPos >= 0) {
    const locator = await src.read(locatorPos, ZIP64_LOCATOR_SIZE);
    if (locator.readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
      const z64Pos = readUInt64(locator, 8, label, 'zip64 locator offset');
      if (z64Pos + ZIP64_EOCD_SIZE > locatorPos)
        throw whole('the zip is corrupt: its zip64 end record lies outside the file');
      const z64 = await src.read(z64Pos, ZIP64_EOCD_SIZE);
      if (z64.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw whole('the zip is corrupt: its zip64 end record is missing');
      disk = z64.readUInt32LE(16);
      cdDisk = z64.readUInt32LE(20);
      count = readUInt64(z64, 32, label, 'entry count');
      cdSize = readUInt64(z64, 40, label, 'central directory size');
      cdOffset = readUInt64(z64, 48, label, 'central directory offset');
      cdLimit = z64Pos;
    }
  }
  if (disk !== 0 || cdDisk !== 0) throw whole('is a multi-part (split or spanned) zip; upload a single-file zip');
  if (count > limits.maxEntries) throw whole(`has ${count} entries; the limit is ${limits.maxEntries}`);
  if (cdSize > limits.maxCentralDirectoryBytes) {
    throw whole(
      `its central directory is ${formatBytes(cdSize)}; the limit is ${formatBytes(limits.maxCentralDirectoryBytes)}`,
    );
  }
  if (cdOffset + cdSize > cdLimit) {
    throw whole('the zip is truncated or corrupt: its central directory points past the end of the file data');
  }
  if (count === 0) return { entries: [], offset: cdOffset, size: cdSize };

  const cd = await src.read(cdOffset, cdSize);
  // Pure work over the user's bytes: whatever it throws is the zip's fault, never retried.
  const entries = readingInput(label, () => parseEntries(cd, count, label));
  const problems = readingInput(label, () => checkEntries(entries, cdOffset, limits, label));
  if (problems.length) throw zipError(problems);
  return { entries, offset: cdOffset, size: cdSize };
}

/** The last EOCD signature whose comment fits in what follows it. */
function findEocd(tail: Buffer): number {
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD && i + EOCD_SIZE + tail.readUInt16LE(i + 20) <= tail.length) return i;
  }
  return -1;
}

function parseEntries(cd: Buffer, count: number, label: string): CentralEntry[] {
  const entries: CentralEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_HEADER_SIZE > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) {
      throw zipError([
        {
          file: label,
          message: `the zip is corrupt: central directory entry ${i + 1} of ${count} is missing or damaged`,
        },
      ]);
    }
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let uncompressedSize = cd.readUInt32LE(p + 24);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    const diskStart = cd.readUInt16LE(p + 34);
    const externalAttributes = cd.readUInt32LE(p + 38);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const end = p + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (end > cd.length) {
      throw zipError([
        { file: label, message: `the zip is corrupt: central directory entry ${i + 1} runs past the directory's end` },
      ]);
    }
    const rawName = Buffer.from(cd.subarray(p + CENTRAL_HEADER_SIZE, p + CENTRAL_HEADER_SIZE + nameLength));
    const extra = cd.subarray(p + CENTRAL_HEADER_SIZE + nameLength, p + CENTRAL_HEADER_SIZE + nameLength + extraLength);
    const decoded = decodeName(rawName, flags, label);
    let name = decoded.name;
    let cp437 = decoded.cp437;
    for (const [id, data] of extraFields(extra)) {
      if (id === EXTRA_ZIP64) {
        let q = 0;
        const next = (what: string): number => {
          if (q + 8 > data.length)
            throw zipError([{ file: label, message: `the zip is corrupt: zip64 field ${what} of ${name} is missing` }]);
          const v = readUInt64(data, q, label, what);
          q += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = next('uncompressedSize');
        if (compressedSize === 0xffffffff) compressedSize = next('compressedSize');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next('localHeaderOffset');
      } else if (
        id === EXTRA_UNICODE_PATH &&
        data.length > 5 &&
        data[0] === 1 &&
        data.readUInt32LE(1) === crc32(rawName)
      ) {
        // Info-ZIP's UTF-8 copy of a name stored in a legacy code page; valid only while its CRC matches.
        name = decodeUtf8Name(Buffer.from(data.subarray(5)), label);
        cp437 = false;
      }
    }
    if (diskStart !== 0 && diskStart !== 0xffff) {
      throw zipError([{ file: label, message: 'is a multi-part (split or spanned) zip; upload a single-file zip' }]);
    }
    const msDosDirectory = (externalAttributes & 0x10) !== 0 && uncompressedSize === 0;
    entries.push({
      name,
      ...(cp437 ? { cp437: true as const } : {}),
      directory: name.endsWith('/') || msDosDirectory,
      compressedSize,
      uncompressedSize,
      flags,
      method,
      crc32: crc,
      localHeaderOffset,
      rawName,
      centralExtraLength: extraLength,
    });
    p = end;
  }
  if (p !== cd.length) {
    throw zipError([
      {
        file: label,
        message: `the zip is corrupt: its central directory holds ${cd.length - p} bytes more than its ${count} entries`,
      },
    ]);
  }
  return entries;
}

function checkEntries(entries: CentralEntry[], cdOffset: number, limits: ZipLimits, label: string): InputProblem[] {
  const problems: InputProblem[] = [];
  const exact = new Set<string>();
  const folded = new Map<string, string>();
  let total = 0;
  for (const e of entries) {
    const shown = displayName(e.name);
    const unsafe = unsafeNameReason(e.name);
    if (unsafe) problems.push({ file: shown, field: 'name', message: `unsafe entry name: ${unsafe}` });
    const tooLong = nameLengthProblem(e.name, limits);
    if (tooLong) problems.push({ file: shown, field: 'name', message: tooLong });
    const key = e.name.replace(/\/$/, '');
    if (exact.has(key)) {
      problems.push({
        file: shown,
        field: 'name',
        message: 'appears more than once in the zip; entry names must be unique',
      });
    } else {
      const other = folded.get(key.toLowerCase());
      if (other !== undefined) {
        problems.push({
          file: shown,
          field: 'name',
          message: `differs from "${displayName(other)}" only in letter case; Windows and the Store treat them as the same file`,
        });
      }
      exact.add(key);
      folded.set(key.toLowerCase(), e.name);
    }
    if (e.flags & FLAG_ENCRYPTED)
      problems.push({ file: shown, message: 'is encrypted; the Store cannot read encrypted entries' });
    if (e.method === METHOD_STORE && e.compressedSize !== e.uncompressedSize) {
      problems.push({
        file: shown,
        field: 'compressedSize',
        message: `is stored uncompressed but declares ${e.compressedSize} bytes stored and ${e.uncompressedSize} bytes uncompressed; the sizes are false`,
      });
    }
    const dataEnd = e.localHeaderOffset + LOCAL_HEADER_SIZE + e.rawName.length + e.compressedSize;
    if (dataEnd > cdOffset) {
      problems.push({
        file: shown,
        field: 'compressedSize',
        message: `declares ${e.compressedSize} compressed bytes at offset ${e.localHeaderOffset}, which runs past the end of the file data; the size is false or the zip is truncated`,
      });
    }
    const ownLimit = limits.entryLimits[e.name];
    if (ownLimit !== undefined && e.uncompressedSize > ownLimit) {
      problems.push({
        file: shown,
        field: 'uncompressedSize',
        message: `is ${formatBytes(e.uncompressedSize)}; the limit is ${formatBytes(ownLimit)}`,
      });
    } else if (
      e.uncompressedSize >= limits.ratioFloorBytes &&
      e.uncompressedSize > e.compressedSize * limits.maxCompressionRatio
    ) {
      const ratio =
        e.compressedSize === 0 ? 'an unbounded' : `a ${Math.round(e.uncompressedSize / e.compressedSize)}:1`;
      problems.push({
        file: shown,
        field: 'uncompressedSize',
        message: `expands ${formatBytes(e.compressedSize)} to ${formatBytes(e.uncompressedSize)} (${ratio} ratio; the limit is ${limits.maxCompressionRatio}:1): refused as a zip bomb`,
      });
    }
    total += e.uncompressedSize;
  }
  if (total > limits.maxTotalUncompressedBytes) {
    problems.push({
      file: label,
      message: `declares ${formatBytes(total)} uncompressed in total; the limit is ${formatBytes(limits.maxTotalUncompressedBytes)}: refused as a zip bomb`,
    });
  }
  // Entries whose data overlap let a few bytes be inflated many times over (the overlapping-file bomb).
  const byOffset = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!;
    const cur = byOffset[i]!;
    const prevEnd = prev.localHeaderOffset + LOCAL_HEADER_SIZE + prev.rawName.length + prev.compressedSize;
    if (cur.localHeaderOffset < prevEnd) {
      problems.push({
        file: displayName(cur.name),
        field: 'localHeaderOffset',
        message: `its data overlaps "${displayName(prev.name)}"; entries sharing bytes are refused (a zip bomb technique, or false sizes)`,
      });
    }
  }
  return problems;
}

function nameLengthProblem(name: string, limits: ZipLimits): string | undefined {
  if (name.length > limits.maxNameLength)
    return `the name is ${name.length} characters long; the limit is ${limits.maxNameLength} (Windows' MAX_PATH)`;
  const segment = name.split('/').find((s) => s.length > limits.maxNameSegmentLength);
  if (segment !== undefined)
    return `a folder or file name in it is ${segment.length} characters long; the limit is ${limits.maxNameSegmentLength}`;
  return undefined;
}

/** Why a name cannot be extracted safely on Windows or Linux, or undefined when it can. */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '' || name === '/') return 'the name is empty';
  if (name.includes('\\')) return 'contains a backslash; zip entry names must use "/" between folders';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'contains a control character';
  if (name.startsWith('/')) return 'is an absolute path (starts with "/")';
  if (/^[A-Za-z]:/.test(name)) return 'is an absolute path (starts with a drive letter)';
  if (name.includes(':')) return 'contains ":", which Windows does not allow in file names';
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.includes('..')) return 'contains a ".." segment (path traversal)';
  if (segments.some((s) => s === '' || s === '.')) return 'contains an empty or "." path segment';
  return undefined;
}

function decodeName(raw: Buffer, flags: number, label: string): { name: string; cp437: boolean } {
  if (flags & FLAG_UTF8) return { name: decodeUtf8Name(raw, label), cp437: false };
  if (raw.every((b) => b < 0x80)) return { name: raw.toString('latin1'), cp437: false };
  // No UTF-8 flag. macOS Archive Utility writes UTF-8 anyway, and a code page 437 name that
  // happens to be valid UTF-8 is rare; otherwise the APPNOTE's default, IBM code page 437.
  if (firstInvalidUtf8(raw) < 0) return { name: raw.toString('utf8'), cp437: false };
  let s = '';
  for (const b of raw) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return { name: s, cp437: true };
}

function decodeUtf8Name(raw: Buffer, label: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw zipError([
      { file: label, message: `an entry name is marked UTF-8 but is not valid UTF-8 (bytes ${raw.toString('hex')})` },
    ]);
  }
}

const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

function* extraFields(extra: Buffer): Generator<[number, Buffer]> {
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    if (p + 4 + len > extra.length) return;
    yield [id, extra.subarray(p + 4, p + 4 + len)];
    p += 4 + len;
  }
}

function readUInt64(buf: Buffer, at: number, label: string, what: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw zipError([{ file: label, message: `the zip is corrupt: its ${what} is impossibly large` }]);
  return Number(v);
}

/** Longest name shown whole in a message; a 65,535-character name must not flood a report. */
const MAX_SHOWN_NAME = 200;

/**
 * Names shown in messages: control characters escaped so a hostile name cannot forge log
 * lines, and a name beyond MAX_SHOWN_NAME cut, saying how long it was.
 */
export function displayName(name: string): string {
  const escaped = (s: string): string =>
    s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (name.length <= MAX_SHOWN_NAME) return escaped(name);
  return `${escaped(name.slice(0, MAX_SHOWN_NAME))}... (${name.length} characters)`;
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))} ${units[u]}`;
}

/**
 * Reads one entry's bytes, inflating at most `maxBytes`, and proves they are what the central
 * directory declares: same name in the local header, same size, same CRC-32.
 */
export async function readEntryBytes(src: ByteSource, e: CentralEntry, maxBytes: number): Promise<Buffer> {
  const shown = displayName(e.name);
  const fail = (message: string, field?: string): InputError => zipError([{ file: shown, field, message }]);
  if (e.directory) throw fail('is a folder, not a file');
  if (e.flags & FLAG_ENCRYPTED) throw fail('is encrypted; save it without a password');
  if (e.method !== METHOD_STORE && e.method !== METHOD_DEFLATE) {
    throw fail(`is compressed with method ${e.method}; only Deflate and Store (no compression) are read`, 'method');
  }
  if (e.uncompressedSize > maxBytes) {
    throw fail(`is ${formatBytes(e.uncompressedSize)}; the limit is ${formatBytes(maxBytes)}`, 'uncompressedSize');
  }
  // Deflate never grows data by more than a few bytes per 16 KiB block.
  if (e.compressedSize > maxBytes + Math.ceil(maxBytes / 1000) + 1024) {
    throw fail(
      `declares ${formatBytes(e.compressedSize)} compressed, more than its ${formatBytes(maxBytes)} limit can need`,
      'compressedSize',
    );
  }
  const guessHeader = LOCAL_HEADER_SIZE + e.rawName.length + e.centralExtraLength;
  const wanted = Math.min(guessHeader + e.compressedSize, src.size - e.localHeaderOffset);
  let block = await src.read(e.localHeaderOffset, wanted);
  if (block.length < LOCAL_HEADER_SIZE || block.readUInt32LE(0) !== SIG_LOCAL) {
    throw fail('the zip is corrupt: the entry has no local header where the central directory says');
  }
  const flags = block.readUInt16LE(6);
  const method = block.readUInt16LE(8);
  const nameLength = block.readUInt16LE(26);
  const extraLength = block.readUInt16LE(28);
  const localName = block.subarray(LOCAL_HEADER_SIZE, LOCAL_HEADER_SIZE + nameLength);
  if (!localName.equals(e.rawName)) {
    throw fail('the zip is inconsistent: the local header names a different file than the central directory', 'name');
  }
  if (method !== e.method)
    throw fail(
      'the zip is inconsistent: local header and central directory disagree on the compression method',
      'method',
    );
  if (!(flags & FLAG_DATA_DESCRIPTOR)) {
    const localCrc = block.readUInt32LE(14);
    const localCompressed = block.readUInt32LE(18);
    const localUncompressed = block.readUInt32LE(22);
    const agrees =
      localCrc === e.crc32 &&
      (localCompressed === 0xffffffff || localCompressed === e.compressedSize) &&
      (localUncompressed === 0xffffffff || localUncompressed === e.uncompressedSize);
    if (!agrees)
      throw fail(
        'the zip is inconsistent: local header and central directory disagree on size or CRC-32',
        'uncompressedSize',
      );
  }
  const dataStart = LOCAL_HEADER_SIZE + nameLength + extraLength;
  if (dataStart + e.compressedSize > block.length) {
    if (e.localHeaderOffset + dataStart + e.compressedSize > src.size)
      throw fail('the zip is truncated: the entry data is cut off', 'compressedSize');
    block = await src.read(e.localHeaderOffset + dataStart, e.compressedSize);
  } else {
    block = block.subarray(dataStart, dataStart + e.compressedSize);
  }

  let data: Buffer;
  if (e.method === METHOD_STORE) {
    data = block;
  } else {
    try {
      // One byte of headroom makes a longer stream visible without inflating it further.
      data = inflateRawSync(block, { maxOutputLength: e.uncompressedSize + 1 });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw fail(
          `inflates to more than its declared ${e.uncompressedSize} bytes; the declared size is false`,
          'uncompressedSize',
        );
      }
      throw fail(`the compressed data is corrupt (${(err as Error).message})`);
    }
  }
  if (data.length !== e.uncompressedSize) {
    throw fail(
      `declares ${e.uncompressedSize} bytes but holds ${data.length}; the declared size is false`,
      'uncompressedSize',
    );
  }
  if (crc32(data) !== e.crc32) throw fail('the data does not match its CRC-32: the zip is corrupt', 'crc32');
  return Buffer.from(data);
}

/**
 * Where an entry's (compressed) data starts in `src`, after checking its local header agrees
 * with the central directory: the same name and the same method. Reads the local header only.
 */
export async function locateEntryData(src: ByteSource, e: CentralEntry): Promise<number> {
  const shown = displayName(e.name);
  const fail = (message: string, field?: string): InputError => zipError([{ file: shown, field, message }]);
  if (e.localHeaderOffset + LOCAL_HEADER_SIZE > src.size) {
    throw fail('the zip is corrupt: the entry has no local header where the central directory says');
  }
  const head = await src.read(e.localHeaderOffset, LOCAL_HEADER_SIZE);
  if (head.readUInt32LE(0) !== SIG_LOCAL) {
    throw fail('the zip is corrupt: the entry has no local header where the central directory says');
  }
  const method = head.readUInt16LE(8);
  const nameLength = head.readUInt16LE(26);
  const extraLength = head.readUInt16LE(28);
  const localName = await src.read(e.localHeaderOffset + LOCAL_HEADER_SIZE, nameLength);
  if (!localName.equals(e.rawName)) {
    throw fail('the zip is inconsistent: the local header names a different file than the central directory', 'name');
  }
  if (method !== e.method) {
    throw fail(
      'the zip is inconsistent: local header and central directory disagree on the compression method',
      'method',
    );
  }
  const start = e.localHeaderOffset + LOCAL_HEADER_SIZE + nameLength + extraLength;
  if (start + e.compressedSize > src.size)
    throw fail('the zip is truncated: the entry data is cut off', 'compressedSize');
  return start;
}

/** Compressed bytes read to get an entry's first bytes: deflate reaches any small prefix well within this. */
const HEAD_READ_BYTES = 16 * 1024;

/**
 * The first `bytes` bytes of an entry (fewer when it is shorter), from the start of its data
 * only: enough to tell a file by its signature without reading, or inflating, the rest.
 */
export async function readEntryHead(src: ByteSource, e: CentralEntry, bytes: number): Promise<Buffer> {
  const fail = (message: string, field?: string): InputError =>
    zipError([{ file: displayName(e.name), field, message }]);
  if (e.directory) throw fail('is a folder, not a file');
  if (e.flags & FLAG_ENCRYPTED) throw fail('is encrypted; save it without a password');
  if (e.method !== METHOD_STORE && e.method !== METHOD_DEFLATE)
    throw fail(`is compressed with method ${e.method}; only Deflate and Store (no compression) are read`, 'method');
  const start = await locateEntryData(src, e);
  const part = await src.read(start, Math.min(e.compressedSize, HEAD_READ_BYTES));
  if (e.method === METHOD_STORE) return Buffer.from(part.subarray(0, bytes));
  try {
    // A cut-off deflate stream inflates as far as it goes with a sync flush.
    return Buffer.from(inflateRawSync(part, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, bytes));
  } catch (err) {
    throw fail(`the compressed data is corrupt (${(err as Error).message})`);
  }
}
