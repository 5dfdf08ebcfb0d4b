import { PassThrough, Readable } from 'node:stream';
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { InputError, SourceBlobError } from '../../../lib/errors';
import { validateManifest } from '../../../lib/manifest';
import { openBlobZip } from '../../../lib/zip/blobZip';
import { writeZip } from '../../../lib/zip/writer';
import { freshContainer } from '../../helpers/azurite';
import { fakeFile, goodZip, manifests, rawZip } from '../../helpers/zips';

let container: ContainerClient;
beforeAll(async () => {
  container = await freshContainer('zip');
});

async function put(name: string, bytes: Buffer): Promise<{ blob: BlockBlobClient; etag: string }> {
  const blob = container.getBlockBlobClient(name);
  const res = await blob.upload(bytes, bytes.length);
  return { blob, etag: res.etag! };
}

async function failure(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('openBlobZip', () => {
  test('reads a small zip in one request and returns its entries and the manifest bytes', async () => {
    const manifest = manifests.app();
    const bytes = goodZip(manifest, {
      'packages/app.msixupload': fakeFile('p', 1000),
      'images/en-us/shot.png': fakeFile('i', 300),
      'images/': '',
    });
    const { blob, etag } = await put('small.zip', bytes);
    const zip = await openBlobZip(blob, etag);
    expect(zip.size).toBe(bytes.length);
    expect(zip.entries.map((e) => [e.name, e.directory, e.uncompressedSize])).toEqual([
      ['submission.json', false, JSON.stringify(manifest, null, 2).length],
      ['packages/app.msixupload', false, 1000],
      ['images/en-us/shot.png', false, 300],
      ['images/', true, 0],
    ]);
    expect(zip.stats).toEqual({ requests: 1, bytes: bytes.length });
    const text = await zip.readEntryText('submission.json', 1024 * 1024);
    expect(JSON.parse(text.toString('utf8'))).toEqual(manifest);
    expect(zip.stats.requests).toBe(1);
  });

  test('a 2,000-entry zip: the whole central directory comes from the tail prefetch', async () => {
    const entries = Array.from({ length: 2000 }, (_, i) => ({
      name: `images/lang-${i % 40}/shot-${i}.png`,
      data: fakeFile(String(i % 10), 600),
    }));
    const bytes = rawZip([
      { name: 'submission.json', data: JSON.stringify(manifests.app()), deflate: true },
      ...entries,
    ]);
    const { blob, etag } = await put('many.zip', bytes);
    const zip = await openBlobZip(blob, etag);
    expect(zip.entries).toHaveLength(2001);
    expect(zip.entries[2000]).toEqual({
      name: 'images/lang-39/shot-1999.png',
      directory: false,
      compressedSize: 600,
      uncompressedSize: 600,
    });
    await zip.readEntryText('submission.json', 1 << 20);
    // head (with the manifest) + tail (with the directory): never the 1.3 MB of images between.
    expect(zip.stats.requests).toBe(2);
    expect(zip.stats.bytes).toBeLessThan(bytes.length);
  });

  test('a large zip streamed with writeZip costs a handful of range reads and a sliver of its bytes', async () => {
    const big = 16 * 1024 * 1024;
    const zeros = (n: number) => () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < n / 65536; i++) yield Buffer.alloc(65536);
        })(),
      );
    const blob = container.getBlockBlobClient('large.zip');
    const pass = new PassThrough();
    const uploading = blob.uploadStream(pass, 4 * 1024 * 1024, 4);
    await writeZip(
      [
        { name: 'packages/App_x64.msixupload', data: zeros(big), size: big },
        { name: 'submission.json', data: Buffer.from(JSON.stringify(manifests.app())), compress: true },
        { name: 'packages/App_arm64.msixupload', data: zeros(big), size: big },
        { name: 'packages/App_x86.msixupload', data: zeros(big), size: big },
      ],
      pass,
    );
    const etag = (await uploading).etag!;
    const zip = await openBlobZip(blob, etag);
    expect(zip.size).toBeGreaterThan(3 * big);
    await zip.readEntryText('submission.json', 1 << 20);
    expect(zip.entries.map((e) => e.uncompressedSize)).toEqual([big, expect.any(Number), big, big]);
    expect(zip.stats.requests).toBeLessThanOrEqual(3);
    expect(zip.stats.bytes).toBeLessThan(2 * 1024 * 1024);
  });

  test('zip64 records and data descriptors are read', async () => {
    const viaWriter = new PassThrough();
    const chunks: Buffer[] = [];
    viaWriter.on('data', (c: Buffer) => chunks.push(c));
    await writeZip(
      [
        {
          name: 'submission.json',
          data: () => Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]),
          size: 7,
          compress: true,
        },
        { name: 'pkg.msix', data: fakeFile('z', 5000) },
      ],
      viaWriter,
      { forceZip64: true },
    );
    const handmade = rawZip([
      { name: 'submission.json', data: '{"a":1}', deflate: true, zip64: true, dataDescriptor: true },
      { name: 'pkg.msix', data: fakeFile('z', 5000), zip64: true },
    ]);
    for (const [name, bytes] of [
      ['zip64-writer.zip', Buffer.concat(chunks)],
      ['zip64-raw.zip', handmade],
    ] as const) {
      const { blob, etag } = await put(name, bytes);
      const zip = await openBlobZip(blob, etag);
      expect(zip.entries.map((e) => [e.name, e.uncompressedSize])).toEqual([
        ['submission.json', 7],
        ['pkg.msix', 5000],
      ]);
      expect((await zip.readEntryText('submission.json', 100)).toString()).toBe('{"a":1}');
    }
  });

  test('names without the UTF-8 flag: UTF-8 when they are valid UTF-8 (macOS), else code page 437', async () => {
    // Both headers of a one-entry zip, with the UTF-8 flag cleared and the name bytes given.
    const unflagged = (nameBytes: Buffer): Buffer => {
      const zip = rawZip([{ name: 'x'.repeat(nameBytes.length), data: 'a' }]);
      for (const [at, flags, name] of [
        [0, 6, 30],
        [zip.indexOf(Buffer.from('PK\x01\x02', 'latin1')), 8, 46],
      ] as const) {
        zip.writeUInt16LE(0, at + flags);
        nameBytes.copy(zip, at + name);
      }
      return zip;
    };
    const cp437 = await put('cp437.zip', unflagged(Buffer.from([0x82, 0x2e, 0x70, 0x6e, 0x67])));
    expect((await openBlobZip(cp437.blob, cp437.etag)).entries[0]).toMatchObject({ name: 'é.png', cp437: true });
    const utf8 = await put('utf8-unflagged.zip', unflagged(Buffer.from('é.png', 'utf8')));
    expect((await openBlobZip(utf8.blob, utf8.etag)).entries[0]!.name).toBe('é.png');
    expect((await openBlobZip(utf8.blob, utf8.etag)).entries[0]!.cp437).toBeUndefined();
    // "Café.png" in Windows-1252 (é = 0xE9): code page 437 reads "CafΘ.png"; a reference to the
    // name as written then says how the zip's name was read.
    const latin1 = await put('latin1.zip', unflagged(Buffer.from('Caf\xe9.png', 'latin1')));
    const zip = await openBlobZip(latin1.blob, latin1.etag);
    expect(zip.entries[0]).toEqual(expect.objectContaining({ name: 'CafΘ.png', cp437: true }));
    const manifest = manifests.app({
      listings: { 'en-us': { baseListing: { images: [{ fileName: 'Café.png', imageType: 'Screenshot' }] } } },
    });
    const problem = await failure(
      Promise.resolve().then(() => validateManifest(Buffer.from(JSON.stringify(manifest)), zip.entries)),
    );
    expect(problem.problems[0]!.message).toBe(
      '"Café.png" is not in the zip; note: 1 name(s) in the zip, such as "CafΘ.png", have no UTF-8 flag and were read as code page 437, as the zip format says: if that is not the name you wrote, make the zip with a tool that writes UTF-8 names (store-submitter pack, 7-Zip)',
    );
  });

  test('a zip between the two prefetch sizes is read in two requests without overlap', async () => {
    const bytes = goodZip(manifests.app(), { 'pkg.msix': fakeFile('p', 300_000) });
    const { blob, etag } = await put('mid.zip', bytes);
    const zip = await openBlobZip(blob, etag);
    await zip.readEntryText('submission.json', 1 << 20);
    expect(zip.stats).toEqual({ requests: 2, bytes: bytes.length });
  });

  test('collects every unsafe entry in one error', async () => {
    const bytes = rawZip([
      { name: 'submission.json', data: '{}' },
      { name: '../up.msix', data: 'x' },
      { name: 'a\\b.msix', data: 'x' },
      { name: 'Dup.png', data: 'x' },
      { name: 'dup.png', data: 'x' },
      { name: 'ok/./x', data: 'x' },
      { name: 'nul\u0000.txt', data: 'x' },
    ]);
    const { blob, etag } = await put('unsafe.zip', bytes);
    const err = await failure(openBlobZip(blob, etag));
    expect(err.code).toBe('InvalidZip');
    expect(err.problems.map((p) => [p.file, p.message])).toEqual([
      ['../up.msix', expect.stringMatching(/path traversal/)],
      ['a\\b.msix', expect.stringMatching(/backslash/)],
      ['dup.png', expect.stringMatching(/differs from "Dup.png" only in letter case/)],
      ['ok/./x', expect.stringMatching(/empty or "\." path segment/)],
      ['nul\\x00.txt', expect.stringMatching(/control character/)],
    ]);
  });

  test('limits can be tightened: total uncompressed size and entry count', async () => {
    const bytes = rawZip([
      { name: 'submission.json', data: '{}' },
      { name: 'a.msix', data: fakeFile('a', 3000) },
      { name: 'b.msix', data: fakeFile('b', 3000) },
    ]);
    const { blob, etag } = await put('limits.zip', bytes);
    const total = await failure(openBlobZip(blob, etag, { maxTotalUncompressedBytes: 5000 }));
    expect(total.problems).toEqual([
      {
        file: `${container.containerName}/limits.zip`,
        message: expect.stringMatching(/declares 5.9 KiB uncompressed in total; the limit is 4.9 KiB/),
      },
    ]);
    const count = await failure(openBlobZip(blob, etag, { maxEntries: 2 }));
    expect(count.message).toMatch(/has 3 entries; the limit is 2/);
    const cd = await failure(openBlobZip(blob, etag, { maxCentralDirectoryBytes: 100 }));
    expect(cd.message).toMatch(/central directory is \d+ bytes; the limit is 100 bytes/);
  });

  test('entry names are bounded: the whole name and each folder or file name in it', async () => {
    const segment = `${'s'.repeat(256)}.png`;
    const whole = `${'folder/'.repeat(37)}x.png`;
    const { blob, etag } = await put(
      'names.zip',
      rawZip([
        { name: 'submission.json', data: '{}' },
        { name: segment, data: 'x' },
        { name: whole, data: 'x' },
      ]),
    );
    const err = await failure(openBlobZip(blob, etag));
    expect(err.problems.map((p) => [p.field, p.message])).toEqual([
      ['name', 'a folder or file name in it is 260 characters long; the limit is 255'],
      ['name', "the name is 264 characters long; the limit is 260 (Windows' MAX_PATH)"],
    ]);
    // A name that long is shown cut, with its length, in every message.
    expect(err.problems[1]!.file).toBe(`${whole.slice(0, 200)}... (264 characters)`);
    await expect(openBlobZip(blob, etag, { maxNameLength: 300, maxNameSegmentLength: 300 })).resolves.toBeDefined();
  });

  test('an entry with a size limit of its own is judged by it, not as a bomb', async () => {
    const { blob, etag } = await put(
      'own-limit.zip',
      rawZip([{ name: 'submission.json', data: Buffer.alloc(2 << 20, 0x20), deflate: true }]),
    );
    expect((await failure(openBlobZip(blob, etag))).message).toMatch(/refused as a zip bomb/);
    const err = await failure(openBlobZip(blob, etag, { entryLimits: { 'submission.json': 1 << 20 } }));
    expect(err.problems).toEqual([
      { file: 'submission.json', field: 'uncompressedSize', message: 'is 2 MiB; the limit is 1 MiB' },
    ]);
  });

  test('readEntryText refuses an entry above maxBytes before reading its data', async () => {
    const { blob, etag } = await put('limit-read.zip', goodZip(manifests.app()));
    const zip = await openBlobZip(blob, etag);
    const before = { ...zip.stats };
    const err = await failure(zip.readEntryText('submission.json', 10));
    expect(err.problems[0]).toEqual({
      file: 'submission.json',
      field: 'uncompressedSize',
      message: expect.stringMatching(/; the limit is 10 bytes/),
    });
    expect(zip.stats).toEqual(before);
    await expect(zip.readEntryText('nope.json', 10)).rejects.toThrow(/nope.json: is not in the zip/);
  });
});

describe('ETag pinning', () => {
  test('a blob replaced between open and read gives BlobChanged', async () => {
    // The manifest sits past a 300 KB package, outside both prefetches, so reading it needs a request.
    const bytes = rawZip([
      { name: 'pkg.msix', data: fakeFile('p', 300_000) },
      { name: 'submission.json', data: '{}' },
      { name: 'pad.bin', data: fakeFile('q', 300_000) },
    ]);
    const { blob, etag } = await put('pinned.zip', bytes);
    const zip = await openBlobZip(blob, etag, { headPrefetchBytes: 1024, tailPrefetchBytes: 1024 });
    await blob.upload(bytes, bytes.length); // same bytes, new ETag
    const err = await zip.readEntryText('submission.json', 1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceBlobError);
    expect((err as SourceBlobError).code).toBe('BlobChanged');
    expect((err as Error).message).toContain(`${container.containerName}/pinned.zip changed while it was being read`);
  });

  test('a stale ETag fails at open with BlobChanged; a missing blob with BlobNotFound', async () => {
    const { blob, etag } = await put('stale.zip', goodZip(manifests.app()));
    await blob.upload(Buffer.from('new'), 3);
    await expect(openBlobZip(blob, etag)).rejects.toMatchObject({ name: 'SourceBlobError', code: 'BlobChanged' });
    await expect(openBlobZip(container.getBlobClient('never-uploaded.zip'), etag)).rejects.toMatchObject({
      name: 'SourceBlobError',
      code: 'BlobNotFound',
    });
  });
});
