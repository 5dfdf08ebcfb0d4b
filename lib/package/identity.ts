/**
 * The identity of an MSIX/APPX package, read from the package where it sits inside the
 * submission zip: `AppxManifest.xml` of a package (`.msix`, `.appx`), `AppxMetadata/
 * AppxBundleManifest.xml` of a bundle (`.msixbundle`, `.appxbundle`), and for an upload file
 * (`.msixupload`, `.appxupload`, a zip holding one package or bundle and its symbols) the
 * package inside it.
 *
 * Nothing is downloaded whole: a package stored uncompressed in the user's zip is read in
 * place with range reads (its central directory, then its manifest); a deflated one is inflated
 * as a stream with bounded memory (lib/zip/entrySource.ts). The Store reads the same manifests
 * in PreProcessing; reading them first lets a run refuse a wrong package before it creates
 * anything in the Store.
 */
import { XMLParser } from 'fast-xml-parser';
import { InputError, isInputError, type InputProblem } from '../errors';
import { type BlobZip, type EntrySource, openZip, type RangeReader } from '../zip/blobZip';
import type { EntrySourceOptions } from '../zip/entrySource';
import { displayName } from '../zip/format';

export const PACKAGE_MANIFEST = 'AppxManifest.xml';
export const BUNDLE_MANIFEST = 'AppxMetadata/AppxBundleManifest.xml';
/** Manifests are a few KiB; anything this large is not one. */
export const MAX_PACKAGE_MANIFEST_BYTES = 4 * 1024 * 1024;

export type PackageContainer = 'msix' | 'appx' | 'msixbundle' | 'appxbundle' | 'msixupload' | 'appxupload';

/** The `<Identity>` element: who made the package and which version of what it is. */
export interface PackageIdentity {
  name: string;
  publisher: string;
  /** Four parts, `major.minor.build.revision`, as written. */
  version: string;
  /** `x86`, `x64`, `arm`, `arm64`, `x86a64` or `neutral` (lower case; absent in the manifest means neutral). Bundles have none. */
  architecture?: string;
  resourceId?: string;
}

/** One application package the Store will offer: its architecture and version (a bundle lists several). */
export interface PackageUnit {
  architecture: string;
  version: string;
  /** The package file inside a bundle. */
  fileName?: string;
}

export interface PackageInfo {
  /** The entry in the submission zip. */
  file: string;
  container: PackageContainer;
  /** What the identity was read from. */
  kind: 'package' | 'bundle';
  identity: PackageIdentity;
  /** Application packages with their architecture and version (resource packages left out). */
  units: PackageUnit[];
  /** For an upload file: the package or bundle inside it. */
  inner?: string;
  /** How it was read: stored packages in place, deflated ones by inflating (passes, bytes). */
  read: { method: 'stored' | 'deflated'; passes: number; inflatedBytes: number; rangeReads: number };
}

const EXTENSIONS: Record<string, PackageContainer> = {
  '.msix': 'msix',
  '.appx': 'appx',
  '.msixbundle': 'msixbundle',
  '.appxbundle': 'appxbundle',
  '.msixupload': 'msixupload',
  '.appxupload': 'appxupload',
};

/** The container type a file name says, or undefined when it is not a package name. */
export function packageContainerOf(fileName: string): PackageContainer | undefined {
  const lower = fileName.toLowerCase();
  const dot = lower.lastIndexOf('.');
  return dot < 0 ? undefined : EXTENSIONS[lower.slice(dot)];
}

const ARCHITECTURES = new Set(['x86', 'x64', 'arm', 'arm64', 'x86a64', 'neutral']);

/** The Store's spelling of an architecture in a submission's package list (`X64`, `Arm64`, `Neutral`...). */
export function storeArchitecture(architecture: string): string {
  const lower = architecture.toLowerCase();
  const known: Record<string, string> = {
    x86: 'X86',
    x64: 'X64',
    arm: 'Arm',
    arm64: 'Arm64',
    x86a64: 'X86a64',
    neutral: 'Neutral',
  };
  return known[lower] ?? architecture;
}

/** Compares two four-part package versions numerically: <0, 0, >0. Malformed parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The highest identity version among the packages `files` of `zip` (a package's or a bundle's
 * `Identity/@Version`): the release a submission brings, for the newest-release rule
 * (lib/productQueue.ts). A package whose identity cannot be read gives no version: the run is
 * then never superseded, and the Store's own package validation refuses the file
 * (PackageValidationFailed). Storage failures (the zip changed or went) pass through.
 */
export async function highestPackageVersion(zip: BlobZip, files: string[]): Promise<string | undefined> {
  let highest: string | undefined;
  for (const file of files) {
    let version: string;
    try {
      version = (await readPackageInfo(zip, file)).identity.version;
    } catch (e) {
      if (e instanceof InputError) return undefined;
      throw e;
    }
    if (!highest || compareVersions(version, highest) > 0) highest = version;
  }
  return highest;
}

const VERSION = /^(\d{1,5})\.(\d{1,5})\.(\d{1,5})\.(\d{1,5})$/;

export interface ReadPackageOptions {
  entrySource?: Partial<EntrySourceOptions>;
}

/**
 * Reads the identity of the package `file` of `zip`. Throws InputError (code `InvalidPackage`)
 * naming the file, and the manifest field when it is one, when the file is not an MSIX/APPX
 * package the Store could read; storage failures (the blob changed or went) pass through.
 */
export async function readPackageInfo(
  zip: BlobZip,
  file: string,
  options: ReadPackageOptions = {},
): Promise<PackageInfo> {
  const container = packageContainerOf(file);
  if (!container) {
    throw invalid(
      file,
      undefined,
      'is not a package file name (.msix, .appx, .msixbundle, .appxbundle, .msixupload, .appxupload)',
    );
  }
  const source = await zip.openEntry(file, options.entrySource);
  const opened: EntrySource[] = [source];
  const result = await readFrom(source, file, file, container, options, opened);
  return {
    ...result,
    read: {
      method: source.method,
      passes: opened.reduce((n, s) => n + s.inflate.passes, 0),
      inflatedBytes: opened.reduce((n, s) => n + s.inflate.inflatedBytes, 0),
      rangeReads: source.stats.requests,
    },
  };
}

/**
 * The identity of a package that is a file of its own rather than an entry of a zip (a release
 * folder's package, before `pack` puts it into one), read the same way through `reader`.
 */
export async function readPackageFile(
  reader: RangeReader & { stream(offset: number, length: number): AsyncIterable<Buffer> },
  file: string,
  options: ReadPackageOptions = {},
): Promise<PackageInfo> {
  const container = packageContainerOf(file);
  if (!container) throw invalid(file, undefined, 'is not a package file name');
  const source: EntrySource = {
    size: reader.size,
    read: (offset, length) => reader.read(offset, length),
    stream: (offset, length) => reader.stream(offset, length),
    stats: reader.stats,
    method: 'stored',
    inflate: { passes: 0, inflatedBytes: 0 },
  };
  const opened: EntrySource[] = [source];
  const result = await readFrom(source, file, file, container, options, opened);
  return {
    ...result,
    read: {
      method: 'stored',
      passes: opened.reduce((n, s) => n + s.inflate.passes, 0),
      inflatedBytes: opened.reduce((n, s) => n + s.inflate.inflatedBytes, 0),
      rangeReads: reader.stats.requests,
    },
  };
}

type Identified = Omit<PackageInfo, 'read'>;

async function readFrom(
  source: EntrySource,
  file: string,
  label: string,
  container: PackageContainer,
  options: ReadPackageOptions,
  opened: EntrySource[],
): Promise<Identified> {
  const depth = opened.length - 1;
  let pkg: BlobZip;
  try {
    // Nothing inside the package is inflated but its manifest, under its own cap: the bomb
    // ratio that guards the submission zip does not apply to the package's other files.
    pkg = await openZip(source, label, { maxCompressionRatio: Number.POSITIVE_INFINITY });
  } catch (e) {
    throw rephrase(e, file, `is not an MSIX/APPX package: it does not open as a zip archive`);
  }
  const names = new Set(pkg.entries.filter((e) => !e.directory).map((e) => e.name));

  if (container === 'msixupload' || container === 'appxupload') {
    if (depth > 0) throw invalid(file, undefined, `holds an upload file inside an upload file (${label})`);
    const inner = pkg.entries.filter((e) => {
      const kind = !e.directory && !e.name.includes('/') ? packageContainerOf(e.name) : undefined;
      return kind !== undefined && kind !== 'msixupload' && kind !== 'appxupload';
    });
    if (inner.length !== 1) {
      throw invalid(
        file,
        undefined,
        inner.length === 0
          ? `is not a valid ${container}: it holds no .msix, .appx, .msixbundle or .appxbundle at its root`
          : `is not a valid ${container}: it holds ${inner.length} packages (${inner.map((e) => displayName(e.name)).join(', ')}); an upload file holds one package or bundle`,
      );
    }
    const innerName = inner[0]!.name;
    const innerSource = await pkg.openEntry(innerName, options.entrySource).catch((e: unknown) => {
      throw rephrase(e, file, `cannot be read: its ${displayName(innerName)}`);
    });
    opened.push(innerSource);
    const result = await readFrom(
      innerSource,
      file,
      `${label}/${innerName}`,
      packageContainerOf(innerName)!,
      options,
      opened,
    );
    return { ...result, container, inner: innerName };
  }

  const isBundle = names.has(BUNDLE_MANIFEST);
  if (!isBundle && !names.has(PACKAGE_MANIFEST)) {
    throw invalid(
      file,
      undefined,
      `is not an MSIX/APPX package: it has neither ${PACKAGE_MANIFEST} nor ${BUNDLE_MANIFEST}${depth > 0 ? ` (in ${displayName(label)})` : ''}`,
    );
  }
  const manifestName = isBundle ? BUNDLE_MANIFEST : PACKAGE_MANIFEST;
  let bytes: Buffer;
  try {
    bytes = await pkg.readEntryText(manifestName, MAX_PACKAGE_MANIFEST_BYTES);
  } catch (e) {
    throw rephrase(e, file, `is not an MSIX/APPX package: its ${manifestName} cannot be read`);
  }
  const parsed = isBundle ? parseBundleManifest(bytes, file) : parsePackageManifest(bytes, file);
  return { file, container, kind: isBundle ? 'bundle' : 'package', ...parsed };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => name === 'Package' || name === 'Identity',
});

function parseXml(bytes: Buffer, file: string, manifest: string): Record<string, unknown> {
  const text = decodeXml(bytes);
  // Package manifests have no DTD; refusing one rules out entity expansion tricks.
  if (/<!DOCTYPE/i.test(text))
    throw invalid(file, manifest, 'has a DOCTYPE declaration, which package manifests never have');
  try {
    return parser.parse(text, true) as Record<string, unknown>;
  } catch (e) {
    throw invalid(file, manifest, `is not well-formed XML (${(e as Error).message.split('\n')[0]})`);
  }
}

function decodeXml(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

type Attributes = Record<string, unknown>;

function identityOf(root: Attributes | undefined, file: string, manifest: string, rootName: string): PackageIdentity {
  if (!root || typeof root !== 'object') throw invalid(file, manifest, `has no <${rootName}> root element`);
  const ids = root.Identity as Attributes[] | undefined;
  if (!ids || ids.length !== 1 || typeof ids[0] !== 'object') {
    throw invalid(file, manifest, `must have exactly one <Identity> element under <${rootName}>`);
  }
  const id = ids[0];
  const attr = (name: string): string | undefined => (typeof id[name] === 'string' ? id[name] : undefined);
  const name = attr('Name');
  const publisher = attr('Publisher');
  const version = attr('Version');
  const field = (a: string): string => `${manifest} Identity/@${a}`;
  if (!name) throw invalid(file, field('Name'), 'is missing');
  if (!/^[A-Za-z0-9.-]{3,50}$/.test(name)) {
    throw invalid(file, field('Name'), `"${name}" is not a package name (3 to 50 letters, digits, "." or "-")`);
  }
  if (!publisher) throw invalid(file, field('Publisher'), 'is missing');
  if (!version) throw invalid(file, field('Version'), 'is missing');
  checkVersion(version, file, field('Version'));
  const identity: PackageIdentity = { name, publisher, version };
  const arch = attr('ProcessorArchitecture');
  if (rootName === 'Package') {
    const architecture = (arch ?? 'neutral').toLowerCase();
    if (!ARCHITECTURES.has(architecture)) {
      throw invalid(
        file,
        field('ProcessorArchitecture'),
        `"${arch}" is not an architecture (x86, x64, arm, arm64, neutral)`,
      );
    }
    identity.architecture = architecture;
  }
  const resourceId = attr('ResourceId');
  if (resourceId) identity.resourceId = resourceId;
  return identity;
}

function checkVersion(version: string, file: string, field: string): void {
  const m = VERSION.exec(version);
  if (!m || m.slice(1).some((p) => Number(p) > 65535)) {
    throw invalid(file, field, `"${version}" is not a package version (four numbers from 0 to 65535, e.g. 1.2.3.0)`);
  }
}

function parsePackageManifest(bytes: Buffer, file: string): { identity: PackageIdentity; units: PackageUnit[] } {
  const doc = parseXml(bytes, file, PACKAGE_MANIFEST);
  const identity = identityOf(first(doc.Package), file, PACKAGE_MANIFEST, 'Package');
  return { identity, units: [{ architecture: identity.architecture ?? 'neutral', version: identity.version }] };
}

function parseBundleManifest(bytes: Buffer, file: string): { identity: PackageIdentity; units: PackageUnit[] } {
  const doc = parseXml(bytes, file, BUNDLE_MANIFEST);
  const bundle = first(doc.Bundle);
  const identity = identityOf(bundle, file, BUNDLE_MANIFEST, 'Bundle');
  const packagesElement = first((bundle as Attributes).Packages);
  const list = (packagesElement?.Package as Attributes[] | undefined) ?? [];
  const units: PackageUnit[] = [];
  for (const [i, p] of list.entries()) {
    if ((typeof p.Type === 'string' ? p.Type : 'application').toLowerCase() !== 'application') continue;
    const architecture = (typeof p.Architecture === 'string' ? p.Architecture : 'neutral').toLowerCase();
    const version = typeof p.Version === 'string' ? p.Version : '';
    const where = `${BUNDLE_MANIFEST} Packages/Package[${i + 1}]`;
    checkVersion(version, file, `${where}/@Version`);
    if (!ARCHITECTURES.has(architecture)) {
      throw invalid(file, `${where}/@Architecture`, `"${String(p.Architecture)}" is not an architecture`);
    }
    units.push({ architecture, version, ...(typeof p.FileName === 'string' ? { fileName: p.FileName } : {}) });
  }
  if (units.length === 0) throw invalid(file, `${BUNDLE_MANIFEST} Packages`, 'lists no application package');
  return { identity, units };
}

function first(value: unknown): Attributes | undefined {
  const v: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  return v && typeof v === 'object' ? (v as Attributes) : undefined;
}

function invalid(file: string, field: string | undefined, message: string): InputError {
  return new InputError([{ file: displayName(file), ...(field ? { field } : {}), message }], 'InvalidPackage');
}

/** A zip problem inside the package becomes a package problem of the outer file; storage failures pass. */
function rephrase(e: unknown, file: string, what: string): unknown {
  if (!(e instanceof InputError)) return e;
  // The package entry itself is corrupt in the zip (false size, CRC): that problem says it best.
  const own = new Set(['crc32', 'uncompressedSize', 'compressedSize']);
  if (e.problems.every((p) => p.file === displayName(file) && own.has(p.field ?? ''))) {
    return new InputError(e.problems, 'InvalidPackage');
  }
  const reasons = e.problems.map((p: InputProblem) => p.message).join('; ');
  return invalid(file, undefined, `${what} (${reasons})`);
}

/** A package as a run or the CLI reports it: the file, its identity and each unit's version and architecture. */
export interface PackageSummary {
  file: string;
  name: string;
  publisher: string;
  versions: string[];
}

export function packageSummary(info: PackageInfo): PackageSummary {
  return {
    file: info.file,
    name: info.identity.name,
    publisher: info.identity.publisher,
    versions: info.units.map((u) => `${u.version} ${u.architecture}`),
  };
}

/**
 * Reads every package of `files`; a file that is no readable MSIX/APPX package is a problem of
 * its own (with its file and field), so one run reports all of them at once.
 */
export async function readPackageInfos(
  zip: BlobZip,
  files: string[],
): Promise<{ infos: PackageInfo[]; problems: InputProblem[] }> {
  const infos: PackageInfo[] = [];
  const problems: InputProblem[] = [];
  for (const file of files) {
    try {
      infos.push(await readPackageInfo(zip, file));
    } catch (e) {
      if (!isInputError(e)) throw e;
      problems.push(...e.problems);
    }
  }
  return { infos, problems };
}
