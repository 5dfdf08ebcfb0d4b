import { InputError } from '../../../lib/errors';
import {
  compareVersions,
  highestPackageVersion,
  packageContainerOf,
  readPackageInfo,
  storeArchitecture,
  type ReadPackageOptions,
} from '../../../lib/package/identity';
import { openZip, type RangeReader } from '../../../lib/zip/blobZip';
import { appxManifest } from '../../../sandbox/packages';
import {
  appxBundle,
  appxPackage,
  appxUpload,
  goodZip,
  manifests,
  noise,
  rawZip,
  type RawEntry,
} from '../../helpers/zips';

/** A zip held in memory, read through the same reader as a blob; counts reads and streamed bytes. */
class MemorySource implements RangeReader {
  readonly stats = { requests: 0, bytes: 0 };
  streamed = 0;
  constructor(private readonly data: Buffer) {}
  get size(): number {
    return this.data.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    this.stats.requests++;
    this.stats.bytes += length;
    return this.data.subarray(offset, offset + length);
  }
  async *stream(offset: number, length: number): AsyncGenerator<Buffer> {
    this.stats.requests++;
    for (let at = offset; at < offset + length; at += 64 * 1024) {
      const piece = this.data.subarray(at, Math.min(offset + length, at + 64 * 1024));
      this.streamed += piece.length;
      yield piece;
    }
  }
}

/** A submission zip with the package `name` (stored unless `deflate`) and returns what the reader says of it. */
async function identify(
  name: string,
  pkg: Buffer,
  opts: { deflate?: boolean; options?: ReadPackageOptions; extra?: RawEntry[] } = {},
) {
  const zip = rawZip([
    { name: 'submission.json', data: JSON.stringify(manifests.app()), deflate: true },
    { name, data: pkg, deflate: opts.deflate },
    ...(opts.extra ?? []),
  ]);
  const source = new MemorySource(zip);
  const opened = await openZip(source, 'test.zip');
  const info = await readPackageInfo(opened, name, opts.options);
  return { info, source };
}

async function problemOf(p: Promise<unknown>) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  expect((e as InputError).code).toBe('InvalidPackage');
  return (e as InputError).problems[0]!;
}

describe('readPackageInfo', () => {
  test('a stored .msix is read in place: identity, architecture and version, without streaming the package', async () => {
    const pkg = appxPackage({
      version: '2.3.4.5',
      architecture: 'arm64',
      payload: [{ name: 'big.bin', data: noise(8 << 20) }],
    });
    const { info, source } = await identify('packages/Contoso.Demo_2.3.4.5_arm64.msix', pkg);
    expect(info).toMatchObject({
      file: 'packages/Contoso.Demo_2.3.4.5_arm64.msix',
      container: 'msix',
      kind: 'package',
      identity: { name: 'Contoso.Demo', publisher: 'CN=Contoso Ltd.', version: '2.3.4.5', architecture: 'arm64' },
      units: [{ architecture: 'arm64', version: '2.3.4.5' }],
      read: { method: 'stored', passes: 0, inflatedBytes: 0 },
    });
    expect(source.streamed).toBe(0);
    // The end-of-directory searches (64 KiB each, the longest zip comment), the central
    // directories, the local headers and the manifest: a small part of an 8 MiB package.
    expect(source.stats.bytes).toBeLessThan(256 * 1024);
  });

  test('a deflated .msix is inflated once, front to back, and its manifest comes from the kept tail', async () => {
    const pkg = appxPackage({ version: '1.0.7.0', payload: [{ name: 'big.bin', data: noise(4 << 20) }] });
    const { info, source } = await identify('Contoso.Demo_1.0.7.0_x64.msix', pkg, { deflate: true });
    expect(info.identity).toEqual({
      name: 'Contoso.Demo',
      publisher: 'CN=Contoso Ltd.',
      version: '1.0.7.0',
      architecture: 'x64',
    });
    expect(info.read).toMatchObject({ method: 'deflated', passes: 1, inflatedBytes: pkg.length });
    expect(source.streamed).toBeGreaterThan(pkg.length * 0.9);
  });

  test('a deflated package whose manifest lies outside the kept window is inflated again up to it, memory staying bounded', async () => {
    // The manifest first, then 3 MiB of payload: with a 256 KiB tail the manifest is not kept.
    const pkg = rawZip([
      {
        name: 'AppxManifest.xml',
        data: appxPackageManifest('3.1.0.0'),
        deflate: true,
      },
      { name: 'big.bin', data: noise(3 << 20) },
    ]);
    const { info } = await identify('late.msix', pkg, {
      deflate: true,
      options: { entrySource: { tailBytes: 256 * 1024, captureBytes: 64 * 1024 } },
    });
    expect(info.identity.version).toBe('3.1.0.0');
    expect(info.read.passes).toBe(2);
    // The second pass stops once it has the manifest: far less than the package again.
    expect(info.read.inflatedBytes).toBeLessThan(pkg.length + 256 * 1024);
  });

  test('a bundle gives the bundle identity and one unit per application package', async () => {
    const bundle = appxBundle({ version: '5.0.0.0' }, [
      { fileName: 'Contoso.Demo_5.0.0.0_x64.msix', package: { version: '5.0.0.0', architecture: 'x64' } },
      { fileName: 'Contoso.Demo_5.0.0.0_arm64.msix', package: { version: '5.0.0.0', architecture: 'arm64' } },
    ]);
    const { info } = await identify('Contoso.Demo_5.0.0.0.msixbundle', bundle);
    expect(info).toMatchObject({
      container: 'msixbundle',
      kind: 'bundle',
      identity: { name: 'Contoso.Demo', publisher: 'CN=Contoso Ltd.', version: '5.0.0.0' },
      units: [
        { architecture: 'x64', version: '5.0.0.0', fileName: 'Contoso.Demo_5.0.0.0_x64.msix' },
        { architecture: 'arm64', version: '5.0.0.0', fileName: 'Contoso.Demo_5.0.0.0_arm64.msix' },
      ],
    });
    expect(info.identity.architecture).toBeUndefined();
  });

  test.each([
    ['stored in the zip, bundle stored in the upload', false, false],
    ['deflated in the zip, bundle stored in the upload', true, false],
    ['deflated in the zip, bundle deflated in the upload', true, true],
  ])('an .msixupload gives the identity of the bundle inside (%s)', async (_label, deflateUpload, deflateInner) => {
    const bundle = appxBundle({ version: '1.3.0.0' }, [
      { fileName: 'Contoso.Demo_1.3.0.0_x64.msix', package: { version: '1.3.0.0' } },
    ]);
    const upload = appxUpload('Contoso.Demo_1.3.0.0_x64.msixbundle', bundle, { deflateInner });
    const { info } = await identify('packages/Contoso.Demo_1.3.0.0.msixupload', upload, { deflate: deflateUpload });
    expect(info).toMatchObject({
      container: 'msixupload',
      kind: 'bundle',
      inner: 'Contoso.Demo_1.3.0.0_x64.msixbundle',
      identity: { name: 'Contoso.Demo', version: '1.3.0.0' },
      units: [{ architecture: 'x64', version: '1.3.0.0' }],
      read: { method: deflateUpload ? 'deflated' : 'stored' },
    });
    // A deflated bundle in a deflated upload: the upload is inflated once for its tail and once
    // more to stream the bundle's bytes to the bundle's own pass.
    expect(info.read.passes).toBe(deflateUpload ? (deflateInner ? 3 : 1) : 0);
  });

  test('a manifest in UTF-16 with a byte order mark is read', async () => {
    const text = appxPackageManifest('1.1.1.1').replace('encoding="utf-8"', 'encoding="utf-16"');
    const pkg = appxPackage({ manifestText: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]) });
    const { info } = await identify('a.msix', pkg);
    expect(info.identity.version).toBe('1.1.1.1');
  });

  test('an architecture left out of the manifest means neutral', async () => {
    const text = appxPackageManifest('1.0.0.0').replace(' ProcessorArchitecture="x64"', '');
    const { info } = await identify('a.appx', appxPackage({ manifestText: text }));
    expect(info).toMatchObject({
      container: 'appx',
      identity: { architecture: 'neutral' },
      units: [{ architecture: 'neutral' }],
    });
  });

  describe('refuses what is not an MSIX/APPX package, naming the file and the field', () => {
    test('a file that is not a zip', async () => {
      const p = await problemOf(
        identify('packages/App_1.0.0.0_x64.msix', Buffer.from('MZ this is an exe, not a package'.repeat(50))),
      );
      expect(p).toMatchObject({ file: 'packages/App_1.0.0.0_x64.msix' });
      expect(p.message).toMatch(/is not an MSIX\/APPX package: it does not open as a zip archive/);
    });

    test('a zip without a manifest', async () => {
      const p = await problemOf(identify('a.msix', rawZip([{ name: 'readme.txt', data: 'hello' }])));
      expect(p.message).toMatch(/has neither AppxManifest.xml nor AppxMetadata\/AppxBundleManifest.xml/);
    });

    test('an upload file with no package inside', async () => {
      const p = await problemOf(identify('a.msixupload', rawZip([{ name: 'a.appxsym', data: 'x' }])));
      expect(p.message).toMatch(/is not a valid msixupload: it holds no .msix, .appx, .msixbundle or .appxbundle/);
    });

    test('a version that is not four numbers', async () => {
      const p = await problemOf(identify('a.msix', appxPackage({ version: '1.2.3' })));
      expect(p).toMatchObject({ file: 'a.msix', field: 'AppxManifest.xml Identity/@Version' });
      expect(p.message).toMatch(/"1.2.3" is not a package version/);
    });

    test('a version part above 65535', async () => {
      const p = await problemOf(identify('a.msix', appxPackage({ version: '1.70000.0.0' })));
      expect(p.field).toBe('AppxManifest.xml Identity/@Version');
    });

    test('a manifest without a publisher', async () => {
      const text = appxPackageManifest('1.0.0.0').replace(/ Publisher="[^"]*"/, '');
      const p = await problemOf(identify('a.msix', appxPackage({ manifestText: text })));
      expect(p).toMatchObject({ field: 'AppxManifest.xml Identity/@Publisher', message: 'is missing' });
    });

    test('a manifest that is not well-formed XML', async () => {
      const p = await problemOf(identify('a.msix', appxPackage({ manifestText: '<Package><Identity Name="x"' })));
      expect(p.field).toBe('AppxManifest.xml');
      expect(p.message).toMatch(/is not well-formed XML/);
    });

    test('a manifest with a DOCTYPE (entity tricks)', async () => {
      const text = `<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><Package><Identity Name="A.B.C" Publisher="CN=x" Version="1.0.0.0"/></Package>`;
      const p = await problemOf(identify('a.msix', appxPackage({ manifestText: text })));
      expect(p.message).toMatch(/DOCTYPE/);
    });

    test('a deflated package whose data does not match its CRC-32', async () => {
      const zip = rawZip([{ name: 'a.msix', data: appxPackage(), deflate: true, crc: 0x1234 }]);
      const e = await readPackageInfo(await openZip(new MemorySource(zip), 't.zip'), 'a.msix').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).problems[0]).toMatchObject({ file: 'a.msix', field: 'crc32' });
    });

    test('a name that is not a package file name', async () => {
      const zip = goodZip(manifests.app(), { 'notes.txt': 'x' });
      const p = await problemOf(readPackageInfo(await openZip(new MemorySource(zip), 't.zip'), 'notes.txt'));
      expect(p.message).toMatch(/is not a package file name/);
    });
  });
});

describe('package helpers', () => {
  test('compareVersions compares the four parts as numbers', () => {
    expect(compareVersions('1.10.0.0', '1.9.0.0')).toBeGreaterThan(0);
    expect(compareVersions('1.2.3.4', '1.2.3.4')).toBe(0);
    expect(compareVersions('1.2.3.4', '1.2.3.10')).toBeLessThan(0);
    expect(compareVersions('2.0.0.0', '10.0.0.0')).toBeLessThan(0);
  });

  test('packageContainerOf knows the six package extensions, in any case', () => {
    expect(packageContainerOf('a/B.MsixUpload')).toBe('msixupload');
    expect(packageContainerOf('x.appxbundle')).toBe('appxbundle');
    expect(packageContainerOf('x.zip')).toBeUndefined();
  });

  test('storeArchitecture spells architectures as the Store does', () => {
    expect(['x64', 'arm64', 'neutral', 'arm', 'x86'].map(storeArchitecture)).toEqual([
      'X64',
      'Arm64',
      'Neutral',
      'Arm',
      'X86',
    ]);
  });
});

function appxPackageManifest(version: string): string {
  return appxManifest({ name: 'Contoso.Demo', publisher: 'CN=Contoso Ltd.', version, architecture: 'x64' });
}

describe('highestPackageVersion', () => {
  const zipOf = (entries: RawEntry[]) => openZip(new MemorySource(rawZip(entries)), 'release.zip');

  test('the highest of the packages, compared as numbers; a bundle counts by its own version', async () => {
    const zip = await zipOf([
      { name: 'a.msix', data: appxPackage({ version: '1.9.0.0' }) },
      { name: 'b.msixupload', data: appxUpload('b.msix', appxPackage({ version: '1.10.0.0', architecture: 'arm64' })) },
      { name: 'c.msixbundle', data: appxBundle({ version: '1.2.0.0' }, [{ fileName: 'c_x64.msix', package: {} }]) },
    ]);
    expect(await highestPackageVersion(zip, ['a.msix', 'b.msixupload', 'c.msixbundle'])).toBe('1.10.0.0');
    expect(await highestPackageVersion(zip, ['a.msix', 'c.msixbundle'])).toBe('1.9.0.0');
    expect(await highestPackageVersion(zip, [])).toBeUndefined();
  });

  test('no version when one package cannot be read', async () => {
    const zip = await zipOf([
      { name: 'good.msix', data: appxPackage({ version: '3.0.0.0' }) },
      { name: 'junk.msix', data: 'not a package' },
    ]);
    expect(await highestPackageVersion(zip, ['good.msix', 'junk.msix'])).toBeUndefined();
  });
});
