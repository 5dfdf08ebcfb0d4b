/**
 * Zips for tests, good and bad. `rawZip` writes bytes by hand so it can also write what zip
 * libraries refuse to (traversal names, duplicates, false sizes, bombs); it is deliberately
 * independent of lib/zip/writer.ts, so reader tests do not test the writer against itself.
 *
 * `BAD_INPUTS` lists one blob per class of bad input with the problem it must produce:
 *
 *   for (const [name, bad] of Object.entries(BAD_INPUTS)) {
 *     const blob = container.getBlockBlobClient(`${name}.zip`);
 *     const { etag } = await blob.upload(bad.bytes(), bad.bytes().length);
 *     const err = await readSubmissionZip(blob, etag!).catch((e) => e);
 *     expect(findProblem(err.problems, bad.expect, `${container.containerName}/${name}.zip`)).toBeDefined();
 *   }
 */
import { randomBytes } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';
import type { InputProblem } from '../../lib/errors';
import { appxManifest, bundleManifest } from '../../sandbox/packages';

export interface RawEntry {
  name: string;
  data?: Buffer | string;
  deflate?: boolean;
  /** Written into both headers instead of the true value: a lie. */
  declaredUncompressedSize?: number;
  declaredCompressedSize?: number;
  crc?: number;
  /** Sizes and offset in zip64 extra fields, as zip64 writers do for large files. */
  zip64?: boolean;
  /** CRC and sizes after the data (general purpose flag bit 3), as streaming writers do. */
  dataDescriptor?: boolean;
  /** No local header or data of its own: the central entry points at this earlier entry's (overlap bomb). */
  sharesDataWith?: string;
}

const MAX32 = 0xffffffff;

/** A zip built byte by byte from `entries`; `truncateTo` cuts the result to that many bytes. */
export function rawZip(entries: RawEntry[], opts: { truncateTo?: number; comment?: string } = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  const placed = new Map<string, { offset: number; csize: number; usize: number; crc: number; method: number }>();
  let offset = 0;
  let anyZip64 = false;
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    const name = Buffer.from(e.name, 'utf8');
    const flags = 0x0800 | (e.dataDescriptor ? 0x0008 : 0);
    const version = e.zip64 ? 45 : 20;
    let f = placed.get(e.sharesDataWith ?? '');
    if (!f) {
      const body = e.deflate ? deflateRawSync(data, { level: 9 }) : data;
      f = {
        offset,
        csize: e.declaredCompressedSize ?? body.length,
        usize: e.declaredUncompressedSize ?? data.length,
        crc: e.crc ?? crc32(data),
        method: e.deflate ? 8 : 0,
      };
      // With a data descriptor the local header carries zeros; with zip64 it points to the extra field.
      const [crc, csize, usize] = e.dataDescriptor ? [0, 0, 0] : [f.crc, f.csize, f.usize];
      const extra = e.zip64 ? zip64Extra([f.usize, f.csize]) : Buffer.alloc(0);
      // prettier-ignore
      const local = Buffer.concat([
        u32(0x04034b50), u16(version), u16(flags), u16(f.method), u16(0), u16(0x21), u32(crc),
        u32(e.zip64 ? MAX32 : csize), u32(e.zip64 ? MAX32 : usize), u16(name.length), u16(extra.length), name, extra,
      ]);
      parts.push(local, body);
      offset += local.length + body.length;
      if (e.dataDescriptor) {
        const sizes = e.zip64 ? [u64(f.csize), u64(f.usize)] : [u32(f.csize), u32(f.usize)];
        const dd = Buffer.concat([u32(0x08074b50), u32(f.crc), ...sizes]);
        parts.push(dd);
        offset += dd.length;
      }
      placed.set(e.name, f);
    }
    anyZip64 ||= e.zip64 === true;
    const extra = e.zip64 ? zip64Extra([f.usize, f.csize, f.offset]) : Buffer.alloc(0);
    const big = (v: number): number => (e.zip64 ? MAX32 : v);
    // prettier-ignore
    central.push(Buffer.concat([
      u32(0x02014b50), u16(45), u16(version), u16(flags), u16(f.method), u16(0), u16(0x21), u32(f.crc),
      u32(big(f.csize)), u32(big(f.usize)), u16(name.length), u16(extra.length), u16(0), u16(0), u16(0), u32(0),
      u32(big(f.offset)), name, extra,
    ]));
  }
  const cd = Buffer.concat(central);
  const comment = Buffer.from(opts.comment ?? '');
  const n = entries.length;
  const tail: Buffer[] = [];
  if (anyZip64) {
    // prettier-ignore
    tail.push(
      Buffer.concat([u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0), u64(n), u64(n), u64(cd.length), u64(offset)]),
      Buffer.concat([u32(0x07064b50), u32(0), u64(offset + cd.length), u32(1)]),
    );
  }
  const [count, cdSize, cdOffset] = anyZip64 ? [0xffff, MAX32, MAX32] : [n, cd.length, offset];
  // prettier-ignore
  tail.push(Buffer.concat([
    u32(0x06054b50), u16(0), u16(0), u16(count), u16(count), u32(cdSize), u32(cdOffset), u16(comment.length), comment,
  ]));
  const zip = Buffer.concat([...parts, cd, ...tail]);
  return opts.truncateTo === undefined ? zip : zip.subarray(0, opts.truncateTo);
}

/** A valid submission zip: submission.json (deflated; an object is written as JSON) plus `files` stored as given. */
export function goodZip(manifest: unknown, files: Record<string, Buffer | string> = {}): Buffer {
  const text = Buffer.isBuffer(manifest) || typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2);
  return rawZip([
    { name: 'submission.json', data: text, deflate: true },
    ...Object.entries(files).map(([name, data]) => ({ name, data })),
  ]);
}

/** Incompressible payload of `size` bytes, so the package's size is what it says. */
export function noise(size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeInt32LE(x | 0, i);
  }
  return b;
}

/** Bytes standing in for a package or an image: content does not matter to the submitter. */
export function fakeFile(label: string, size = 256): Buffer {
  return Buffer.alloc(size, label);
}

export const APP_ID = '9NBLGGH4R315';
export const ADDON_ID = '9NBLGGH4TNMP';
export const FLIGHT_ID = '7bfc11d5-f710-47c5-8a98-e04bb5aad310';

/** One small valid manifest per target form. */
export const manifests = {
  app: (submission: Record<string, unknown> = {}) => ({ target: { kind: 'app', applicationId: APP_ID }, submission }),
  flightById: (submission: Record<string, unknown> = {}) => ({
    target: { kind: 'flight', applicationId: APP_ID, flightId: FLIGHT_ID },
    submission,
  }),
  flightByName: (submission: Record<string, unknown> = {}) => ({
    target: {
      kind: 'flight',
      applicationId: APP_ID,
      flight: { friendlyName: 'Insiders', groupIds: ['1152921504606962205'], rankHigherThan: 'Beta' },
    },
    submission,
  }),
  addonById: (submission: Record<string, unknown> = {}) => ({
    target: { kind: 'addon', inAppProductId: ADDON_ID },
    submission,
  }),
  addonByProductId: (submission: Record<string, unknown> = {}) => ({
    target: { kind: 'addon', addon: { productId: 'extra-levels', productType: 'Durable', applicationId: APP_ID } },
    submission,
  }),
};

/** Stands for "the zip blob itself" (container/name) in an expectation's `file`. */
export const THE_BLOB = '<the blob>';

export interface ProblemExpectation {
  /** InputError code: InvalidZip (the zip itself) or InvalidManifest (submission.json). */
  code: 'InvalidZip' | 'InvalidManifest';
  file: string;
  field?: string;
  message: RegExp;
}

export interface BadInput {
  bytes: () => Buffer;
  expect: ProblemExpectation;
}

const pkg = 'packages/Contoso_1.0.0.0_x64.msixupload';
/** 270 characters: over Windows' MAX_PATH, each folder and file name under NTFS's 255. */
const LONG_PACKAGE = `packages/${'a'.repeat(115)}/${'b'.repeat(114)}/Contoso_1.0.0.0_x64.msixupload`;

/** The app manifest with `field` of its submission set to raw JSON text. */
function manifestWith(field: string, rawJson: string): string {
  return `{"target": ${JSON.stringify(manifests.app().target)}, "submission": {${JSON.stringify(field)}: ${rawJson}}}`;
}
const appWithPackage = (): Buffer => goodZip(manifests.app(), { [pkg]: fakeFile('p') });

/** One zip per class of bad input, with the problem each must produce. */
export const BAD_INPUTS: Record<string, BadInput> = {
  notAZip: {
    bytes: () => Buffer.from('<html>this is a web page, not a zip</html>\n'.repeat(20)),
    expect: { code: 'InvalidZip', file: THE_BLOB, message: /is not a zip file/ },
  },
  emptyBlob: {
    bytes: () => Buffer.alloc(0),
    expect: { code: 'InvalidZip', file: THE_BLOB, message: /empty \(0 bytes\)/ },
  },
  truncated: {
    bytes: () => {
      const whole = appWithPackage();
      return whole.subarray(0, Math.floor(whole.length * 0.6));
    },
    expect: { code: 'InvalidZip', file: THE_BLOB, message: /truncated/ },
  },
  noManifest: {
    bytes: () => rawZip([{ name: pkg, data: fakeFile('p') }]),
    expect: { code: 'InvalidManifest', file: 'submission.json', message: /is not at the root of the zip/ },
  },
  manifestInFolder: {
    bytes: () => rawZip([{ name: 'MyApp/submission.json', data: JSON.stringify(manifests.app()) }]),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      message: /found "MyApp\/submission.json": zip the folder's contents/,
    },
  },
  invalidJson: {
    bytes: () => goodZip('{\n  "target": {\n    "kind": "app",\n  }\n}\n'),
    expect: { code: 'InvalidManifest', file: 'submission.json', message: /line 4, column 3: trailing comma/ },
  },
  duplicateJsonKey: {
    bytes: () =>
      goodZip(
        `{"target": {"kind": "app", "applicationId": "${APP_ID}"},\n "target": {"kind": "addon", "inAppProductId": "${ADDON_ID}"}}`,
      ),
    expect: { code: 'InvalidManifest', file: 'submission.json', message: /line 2, column 2: duplicate key "target"/ },
  },
  unknownTargetKind: {
    bytes: () => goodZip({ target: { kind: 'application', applicationId: APP_ID } }),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      field: 'target.kind',
      message: /must be one of "app", "flight", "addon", "win32" \(got "application"\)/,
    },
  },
  missingApplicationId: {
    bytes: () => goodZip({ target: { kind: 'app' } }),
    expect: { code: 'InvalidManifest', file: 'submission.json', field: 'target.applicationId', message: /is required/ },
  },
  malformedApplicationId: {
    bytes: () => goodZip({ target: { kind: 'app', applicationId: '9nblggh4r315' } }),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      field: 'target.applicationId',
      message: /12-character Store ID/,
    },
  },
  malformedFlightId: {
    bytes: () => goodZip({ target: { kind: 'flight', applicationId: APP_ID, flightId: 'beta' } }),
    expect: { code: 'InvalidManifest', file: 'submission.json', field: 'target.flightId', message: /must be a GUID/ },
  },
  wrongType: {
    bytes: () => goodZip({ ...manifests.app(), options: { dryRun: 'yes' } }),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      field: 'options.dryRun',
      message: /must be a boolean \(got "yes"\)/,
    },
  },
  unknownOption: {
    bytes: () => goodZip({ ...manifests.app(), options: { dryrun: true } }),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      field: 'options.dryrun',
      message: /is not a known option; did you mean "dryRun"\?/,
    },
  },
  readOnlyField: {
    bytes: () => goodZip(manifests.app({ status: 'Published' })),
    expect: { code: 'InvalidManifest', file: 'submission.json', field: 'submission.status', message: /is read-only/ },
  },
  fieldOfAnotherKind: {
    bytes: () => goodZip(manifests.app({ flightPackages: [] })),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      field: 'submission.flightPackages',
      message: /is not a field of an app submission; it belongs to flight submissions/,
    },
  },
  missingFile: {
    bytes: () => goodZip(manifests.app({ applicationPackages: [{ fileName: 'Contoso_2.0.0.0_x64.msixupload' }] })),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      field: 'submission.applicationPackages[0].fileName',
      message: /"Contoso_2.0.0.0_x64.msixupload" is not in the zip/,
    },
  },
  pathTraversal: {
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()) },
        { name: '../../evil.msix', data: 'x' },
      ]),
    expect: { code: 'InvalidZip', file: '../../evil.msix', field: 'name', message: /path traversal/ },
  },
  absolutePath: {
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()) },
        { name: '/etc/cron.d/evil', data: 'x' },
      ]),
    expect: { code: 'InvalidZip', file: '/etc/cron.d/evil', field: 'name', message: /absolute path/ },
  },
  driveLetter: {
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()) },
        { name: 'C:/Windows/evil.dll', data: 'x' },
      ]),
    expect: { code: 'InvalidZip', file: 'C:/Windows/evil.dll', field: 'name', message: /drive letter/ },
  },
  backslash: {
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()) },
        { name: 'packages\\app.msix', data: 'x' },
      ]),
    expect: { code: 'InvalidZip', file: 'packages\\app.msix', field: 'name', message: /backslash/ },
  },
  duplicateNames: {
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()) },
        { name: 'app.msix', data: 'one' },
        { name: 'app.msix', data: 'two' },
      ]),
    expect: { code: 'InvalidZip', file: 'app.msix', field: 'name', message: /appears more than once/ },
  },
  manifestSizeLies: {
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()), deflate: true, declaredUncompressedSize: 20 },
      ]),
    expect: {
      code: 'InvalidZip',
      file: 'submission.json',
      field: 'uncompressedSize',
      message: /declared size is false/,
    },
  },
  packageSizeLies: {
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()) },
        { name: pkg, data: fakeFile('p'), declaredCompressedSize: 5_000_000, declaredUncompressedSize: 5_000_000 },
      ]),
    expect: { code: 'InvalidZip', file: pkg, field: 'compressedSize', message: /runs past the end of the file data/ },
  },
  badCrc: {
    bytes: () => rawZip([{ name: 'submission.json', data: JSON.stringify(manifests.app()), crc: 0x12345678 }]),
    expect: { code: 'InvalidZip', file: 'submission.json', field: 'crc32', message: /CRC-32/ },
  },
  zipBomb: {
    // Honest headers: 4 MiB of zeros deflate to ~4 KiB, a 1028:1 ratio.
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()) },
        { name: 'assets/zeros.bin', data: Buffer.alloc(4 << 20), deflate: true },
      ]),
    expect: { code: 'InvalidZip', file: 'assets/zeros.bin', field: 'uncompressedSize', message: /zip bomb/ },
  },
  hugeDeclaredSize: {
    // 2 TiB declared in zip64 fields; refused from the central directory, nothing inflated.
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()) },
        {
          name: 'big.msix',
          data: Buffer.alloc(1024),
          deflate: true,
          zip64: true,
          declaredUncompressedSize: 2 * 1024 ** 4,
        },
      ]),
    expect: { code: 'InvalidZip', file: 'big.msix', field: 'uncompressedSize', message: /zip bomb/ },
  },
  overlappingEntries: {
    bytes: () =>
      rawZip([
        { name: 'submission.json', data: JSON.stringify(manifests.app()) },
        { name: 'a.msix', data: fakeFile('a', 4096) },
        { name: 'b.msix', sharesDataWith: 'a.msix' },
      ]),
    expect: { code: 'InvalidZip', file: 'b.msix', field: 'localHeaderOffset', message: /overlaps "a.msix"/ },
  },
  manifestTooLarge: {
    // Random text, so it does not compress like a bomb: only the manifest limit applies.
    bytes: () => goodZip(manifests.app({ notesForCertification: randomBytes(550 * 1024).toString('hex') })),
    expect: { code: 'InvalidZip', file: 'submission.json', field: 'uncompressedSize', message: /limit is 1 MiB/ },
  },
  deepJson: {
    // Valid JSON, 10 KB: 5,000 nested arrays once overflowed the validator's stack and stalled the run.
    bytes: () => goodZip(manifestWith('notesForCertification', `${'['.repeat(5000)}${']'.repeat(5000)}`)),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      message: /nests deeper than 64 levels; the limit is 64 .*\(at line 1, column \d+\)/,
    },
  },
  tooManyJsonValues: {
    bytes: () => goodZip(manifestWith('notesForCertification', `[${'0,'.repeat(100_000)}0]`)),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      message: /holds more than 100,000 JSON values; the limit is 100,000/,
    },
  },
  manifestTooLargeButCompressible: {
    // 8 MiB of blanks deflate more than a thousandfold (once called a zip bomb): too big, and said so.
    bytes: () => goodZip(`${JSON.stringify(manifests.app())}${' '.repeat(8 * 1024 * 1024)}`),
    expect: {
      code: 'InvalidZip',
      file: 'submission.json',
      field: 'uncompressedSize',
      message: /^is 8 MiB; the limit is 1 MiB$/,
    },
  },
  longEntryName: {
    bytes: () => goodZip(manifests.app(), { [LONG_PACKAGE]: fakeFile('p') }),
    expect: {
      code: 'InvalidZip',
      file: `${LONG_PACKAGE.slice(0, 200)}... (270 characters)`,
      field: 'name',
      message: /the name is 270 characters long; the limit is 260/,
    },
  },
  manifestNotUtf8: {
    // "Contoso Café" in Windows-1252, as an old editor would save it.
    bytes: () =>
      goodZip(
        Buffer.concat([
          Buffer.from(
            `{"target": {"kind": "app", "applicationId": "${APP_ID}"},\n"submission": {"friendlyName": "Contoso Caf`,
          ),
          Buffer.from([0xe9]),
          Buffer.from('"}}'),
        ]),
      ),
    expect: {
      code: 'InvalidManifest',
      file: 'submission.json',
      message: /is not valid UTF-8: byte \d+ \(line 2\) is 0xe9/,
    },
  },
};

/** Manifests in encodings editors produce, all accepted. */
export const ENCODED_MANIFESTS = {
  utf8Bom: (m: unknown): Buffer => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(m))]),
  /** What Windows PowerShell 5 writes with `Out-File` or `>`. */
  utf16leBom: (m: unknown): Buffer =>
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(m), 'utf16le')]),
  utf16beBom: (m: unknown): Buffer =>
    Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(JSON.stringify(m), 'utf16le').swap16()]),
};

/** The problem in `problems` that meets `expect`; `blobLabel` (container/name) stands in for THE_BLOB. */
export function findProblem(
  problems: InputProblem[] | undefined,
  expect: ProblemExpectation,
  blobLabel: string,
): InputProblem | undefined {
  const file = expect.file === THE_BLOB ? blobLabel : expect.file;
  return (problems ?? []).find(
    (p) =>
      p.file === file && (expect.field === undefined || p.field === expect.field) && expect.message.test(p.message),
  );
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function u64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
}

function zip64Extra(values: number[]): Buffer {
  return Buffer.concat([u16(1), u16(8 * values.length), ...values.map(u64)]);
}

// ---- MSIX/APPX packages, built byte by byte with rawZip (independent of lib/zip/writer.ts) ----

export interface TestPackage {
  name?: string;
  publisher?: string;
  version?: string;
  architecture?: string;
  /** Deflate the manifest (default true, as the packaging tools do). */
  deflateManifest?: boolean;
  /** Extra payload entries before the footprint files. */
  payload?: RawEntry[];
  /** Replaces the manifest text entirely. */
  manifestText?: Buffer | string;
}

export const TEST_IDENTITY = { name: 'Contoso.Demo', publisher: 'CN=Contoso Ltd.' } as const;

/** A minimal .msix: payload, then AppxManifest.xml and the other footprint files. */
export function appxPackage(p: TestPackage = {}): Buffer {
  const spec = {
    name: p.name ?? TEST_IDENTITY.name,
    publisher: p.publisher ?? TEST_IDENTITY.publisher,
    version: p.version ?? '1.2.3.0',
    architecture: p.architecture ?? 'x64',
  };
  return rawZip([
    ...(p.payload ?? [{ name: 'App.exe', data: 'MZ placeholder' }]),
    { name: 'AppxManifest.xml', data: p.manifestText ?? appxManifest(spec), deflate: p.deflateManifest ?? true },
    { name: 'AppxBlockMap.xml', data: '<BlockMap/>', deflate: true },
    { name: '[Content_Types].xml', data: '<Types/>', deflate: true },
  ]);
}

/** A minimal .msixbundle of the given packages (stored inside, as bundles store them). */
export function appxBundle(
  bundle: { name?: string; publisher?: string; version?: string },
  packages: Array<{ fileName: string; package: TestPackage }>,
): Buffer {
  const spec = {
    name: bundle.name ?? TEST_IDENTITY.name,
    publisher: bundle.publisher ?? TEST_IDENTITY.publisher,
    version: bundle.version ?? '1.2.3.0',
    packages: packages.map((p) => ({
      fileName: p.fileName,
      spec: {
        name: p.package.name ?? TEST_IDENTITY.name,
        publisher: p.package.publisher ?? TEST_IDENTITY.publisher,
        version: p.package.version ?? '1.2.3.0',
        architecture: p.package.architecture ?? 'x64',
      },
    })),
  };
  return rawZip([
    ...packages.map((p) => ({ name: p.fileName, data: appxPackage(p.package) })),
    { name: 'AppxMetadata/AppxBundleManifest.xml', data: bundleManifest(spec), deflate: true },
    { name: 'AppxBlockMap.xml', data: '<BlockMap/>', deflate: true },
  ]);
}

/** A minimal .msixupload around `inner` (a package or bundle) and its symbols. */
export function appxUpload(innerName: string, inner: Buffer, opts: { deflateInner?: boolean } = {}): Buffer {
  return rawZip([
    { name: innerName, data: inner, deflate: opts.deflateInner },
    { name: innerName.replace(/\.[^.]+$/, '.appxsym'), data: 'symbols', deflate: true },
  ]);
}

/** The package a test file name like `packages/Contoso.Demo_1.2.3.0_x64.msixupload` stands for, with the demo identity. */
export function packageFor(fileName: string, identity: { name?: string; publisher?: string } = {}): Buffer {
  const base = fileName.split('/').pop() ?? fileName;
  const version = /_(\d+\.\d+\.\d+\.\d+)_/.exec(base)?.[1] ?? '1.0.0.0';
  const architecture = /_(x64|x86|arm64|arm|neutral)[._]/i.exec(base)?.[1]?.toLowerCase() ?? 'x64';
  const pkg = appxPackage({ ...identity, version, architecture });
  if (/\.(msix|appx)$/i.test(base)) return pkg;
  const innerName = `${identity.name ?? TEST_IDENTITY.name}_${version}_${architecture}.msix`;
  if (/\.(msixbundle|appxbundle)$/i.test(base)) {
    return appxBundle({ ...identity, version }, [
      { fileName: innerName, package: { ...identity, version, architecture } },
    ]);
  }
  return appxUpload(innerName, pkg);
}
