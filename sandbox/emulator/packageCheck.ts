/**
 * PreProcessing's package validation: each new package of a committed submission is opened from
 * the uploaded zip and its manifest read, as the Store does before certification. Wrong identity
 * name or publisher, a version that does not go up, or a file that is not an MSIX/APPX package
 * end the submission in PreProcessingFailed with PackageValidationFailed (submission status
 * codes of manage-app-submissions.md; windows-dev-docs#693: a corrupt package fails as 5001).
 *
 * Written on zip.js, independently of the product's own reader (lib/package), so that a
 * mistake in one is not hidden by the same mistake in the other. A package stored in the zip is
 * read in place by range reads; a compressed one is inflated into a temporary file first, so
 * memory stays small whatever its size.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { BlobClient } from '@azure/storage-blob';
import { Reader, Uint8ArrayWriter, ZipReader, type Entry, type FileEntry } from '@zip.js/zip.js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BlobRangeReader } from './zipcheck';

/** What the Store learns from a package's manifest, and shows in the submission once it is processed. */
export interface PackageFacts {
  kind: 'package' | 'bundle';
  name: string;
  publisher: string;
  version: string;
  /** The application packages: one for a package, one per application package of a bundle. */
  units: Array<{ architecture: string; version: string }>;
  languages: string[];
  capabilities: string[];
  targetDeviceFamilies: string[];
}

export type PackageRead = { ok: true; facts: PackageFacts } | { ok: false; reason: string };

/** A window onto part of another reader: a stored entry read in place. */
class SliceReader extends Reader<null> {
  constructor(
    private readonly parent: Reader<unknown>,
    private readonly start: number,
    size: number,
  ) {
    super(null);
    this.size = size;
  }
  override readUint8Array(index: number, length: number): Promise<Uint8Array> {
    return this.parent.readUint8Array(this.start + index, Math.max(0, Math.min(length, this.size - index)));
  }
}

class FileReader extends Reader<null> {
  constructor(
    private readonly file: FileHandle,
    size: number,
  ) {
    super(null);
    this.size = size;
  }
  override async readUint8Array(index: number, length: number): Promise<Uint8Array> {
    const count = Math.max(0, Math.min(length, this.size - index));
    const out = new Uint8Array(count);
    let done = 0;
    while (done < count) {
      const { bytesRead } = await this.file.read(out, done, count - done, index + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return out.subarray(0, done);
  }
}

const PACKAGE_EXTENSIONS = /\.(msix|appx|msixbundle|appxbundle)$/i;
const UPLOAD_EXTENSIONS = /\.(msixupload|appxupload)$/i;

/** Reads the package `fileName` of the zip in `blob` (its ETag pinned by the reader). */
export async function readUploadedPackage(blob: BlobClient, fileName: string): Promise<PackageRead> {
  const props = await blob.getProperties();
  const outer = new BlobRangeReader(blob, props.etag ?? '*', props.contentLength ?? 0);
  const scratch: { dir?: string; files: FileHandle[] } = { files: [] };
  try {
    const entries = await new ZipReader(outer, { useWebWorkers: false }).getEntries();
    const entry = entries.find((e) => !e.directory && normalize(e.filename) === normalize(fileName));
    if (!entry) return { ok: false, reason: `${fileName} is not in the uploaded archive` };
    return await readPackage(outer, entry, fileName, scratch, 0);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  } finally {
    await Promise.all(scratch.files.map((f) => f.close().catch(() => undefined)));
    if (scratch.dir) await rm(scratch.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function readPackage(
  parent: Reader<unknown>,
  entry: Entry,
  fileName: string,
  scratch: { dir?: string; files: FileHandle[] },
  depth: number,
): Promise<PackageRead> {
  const reader = await entryReader(parent, entry, scratch);
  let entries: Entry[];
  try {
    entries = await new ZipReader(reader, { useWebWorkers: false }).getEntries();
  } catch (e) {
    return { ok: false, reason: `${fileName} is not a valid app package: ${(e as Error).message}` };
  }
  const byName = (name: string): Entry | undefined =>
    entries.find((e) => !e.directory && e.filename.toLowerCase() === name.toLowerCase());
  if (UPLOAD_EXTENSIONS.test(entry.filename) && depth === 0) {
    const inner = entries.filter(
      (e) => !e.directory && !e.filename.includes('/') && PACKAGE_EXTENSIONS.test(e.filename),
    );
    if (inner.length !== 1) {
      return { ok: false, reason: `${fileName} must hold exactly one package or bundle, it holds ${inner.length}` };
    }
    return readPackage(reader, inner[0]!, `${fileName}/${inner[0]!.filename}`, scratch, depth + 1);
  }
  const bundle = byName('AppxMetadata/AppxBundleManifest.xml');
  const manifest = bundle ?? byName('AppxManifest.xml');
  if (!manifest) return { ok: false, reason: `${fileName} is not a valid app package: it has no AppxManifest.xml` };
  const bytes = Buffer.from(await (manifest as FileEntry).getData(new Uint8ArrayWriter()));
  try {
    return { ok: true, facts: bundle ? bundleFacts(bytes) : packageFacts(bytes) };
  } catch (e) {
    return { ok: false, reason: `${fileName} has an invalid manifest: ${(e as Error).message}` };
  }
}

/** A stored entry is a slice of its parent; a compressed one is inflated to a temporary file. */
async function entryReader(
  parent: Reader<unknown>,
  entry: Entry,
  scratch: { dir?: string; files: FileHandle[] },
): Promise<Reader<unknown>> {
  if (entry.compressionMethod === 0) {
    const header = Buffer.from(await parent.readUint8Array(entry.offset, 30));
    if (header.readUInt32LE(0) !== 0x04034b50) throw new Error(`${entry.filename}: no local header`);
    const start = entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    return new SliceReader(parent, start, entry.uncompressedSize);
  }
  scratch.dir ??= await mkdtemp(join(tmpdir(), 'emulator-package-'));
  const path = join(scratch.dir, `${scratch.files.length}.zip`);
  const out = Writable.toWeb(createWriteStream(path));
  await (entry as FileEntry).getData(out as WritableStream);
  const file = await open(path, 'r');
  scratch.files.push(file);
  return new FileReader(file, (await file.stat()).size);
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
});

type Node = Record<string, unknown>;

function parse(bytes: Buffer, root: string): Node {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = bytes.subarray(2).toString('utf16le');
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  else text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (/<!DOCTYPE/i.test(text)) throw new Error('a DOCTYPE is not allowed');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`not well-formed XML (${valid.err.msg})`);
  const doc = parser.parse(text) as Node;
  const top = (doc[root] as Node[] | undefined)?.[0];
  if (!top) throw new Error(`no <${root}> element`);
  return top;
}

const all = (node: unknown, name: string): Node[] => ((node as Node | undefined)?.[name] as Node[] | undefined) ?? [];
const attr = (node: Node | undefined, name: string): string | undefined => {
  const v = node?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
};

function identity(top: Node): { name: string; publisher: string; version: string; architecture?: string } {
  const ids = all(top, 'Identity');
  if (ids.length !== 1) throw new Error('it must have exactly one Identity element');
  const id = ids[0];
  const name = attr(id, 'Name');
  const publisher = attr(id, 'Publisher');
  const version = attr(id, 'Version');
  if (!name || !publisher || !version) throw new Error('Identity needs Name, Publisher and Version');
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(version))
    throw new Error(`Identity/@Version "${version}" is not a four-part version`);
  return { name, publisher, version, architecture: attr(id, 'ProcessorArchitecture')?.toLowerCase() };
}

function packageFacts(bytes: Buffer): PackageFacts {
  const top = parse(bytes, 'Package');
  const id = identity(top);
  const families = all(all(top, 'Dependencies')[0], 'TargetDeviceFamily').map(
    (f) => `${attr(f, 'Name') ?? 'Windows.Universal'} min version ${attr(f, 'MinVersion') ?? '10.0.0.0'}`,
  );
  const capabilities = all(top, 'Capabilities').flatMap((c) => all(c, 'Capability').map((x) => attr(x, 'Name') ?? ''));
  return {
    kind: 'package',
    name: id.name,
    publisher: id.publisher,
    version: id.version,
    units: [{ architecture: id.architecture ?? 'neutral', version: id.version }],
    languages: all(all(top, 'Resources')[0], 'Resource').flatMap((r) => attr(r, 'Language') ?? []),
    capabilities: capabilities.filter(Boolean),
    targetDeviceFamilies: families,
  };
}

function bundleFacts(bytes: Buffer): PackageFacts {
  const top = parse(bytes, 'Bundle');
  const id = identity(top);
  const packages = all(all(top, 'Packages')[0], 'Package').filter(
    (p) => (attr(p, 'Type') ?? 'application').toLowerCase() === 'application',
  );
  if (packages.length === 0) throw new Error('the bundle lists no application package');
  return {
    kind: 'bundle',
    name: id.name,
    publisher: id.publisher,
    version: id.version,
    units: packages.map((p) => ({
      architecture: (attr(p, 'Architecture') ?? 'neutral').toLowerCase(),
      version: attr(p, 'Version') ?? id.version,
    })),
    languages: [],
    capabilities: [],
    targetDeviceFamilies: [],
  };
}

function normalize(name: string): string {
  return name.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
}

/** Numeric four-part comparison, written here rather than borrowed from the product. */
export function versionOrder(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
}
