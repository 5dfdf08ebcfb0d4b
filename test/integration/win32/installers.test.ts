/** Copying installers out of a zip into the packages container, and their read-only URLs, against Azurite. */
import { randomBytes } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { InputError, SourceBlobError, UploadError } from '../../../lib/errors';
import { installerBlobName, installerUrl, stageInstaller } from '../../../lib/win32/installers';
import { openBlobZip } from '../../../lib/zip/blobZip';
import { freshContainer } from '../../helpers/azurite';
import { exeOf, msiOf } from '../../helpers/files';
import { rawZip } from '../../helpers/zips';

const PRODUCT = '3E31A9F9-84E8-4D2D-9EBA-487878D02EBF';

describe('installers', () => {
  let zips: ContainerClient;
  let packages: ContainerClient;
  beforeAll(async () => {
    zips = await freshContainer('w32zips');
    packages = await freshContainer('w32pkgs');
  });
  afterAll(async () => {
    await zips?.deleteIfExists();
    await packages?.deleteIfExists();
  });

  async function dropZip(name: string, entries: Parameters<typeof rawZip>[0]): Promise<{ etag: string }> {
    const data = rawZip(entries);
    const result = await zips.getBlockBlobClient(name).upload(data, data.length);
    return { etag: result.etag! };
  }

  it('streams a stored and a deflated installer out of the zip, byte for byte, in blocks', async () => {
    const msi = Buffer.concat([msiOf('a', 8), randomBytes(3 * 1024 * 1024 + 17)]);
    // Half random, so deflate shrinks it but not like a zip bomb.
    const exe = Buffer.concat([exeOf('e', 1024 * 1024), randomBytes(1024 * 1024)]);
    const { etag } = await dropZip('release.zip', [
      { name: 'submission.json', data: '{}' },
      { name: 'installers/Contoso-1.3-x64.msi', data: msi },
      { name: 'installers/ContosoSetup.exe', data: exe, deflate: true },
    ]);
    const zip = await openBlobZip(zips.getBlobClient('release.zip'), etag);
    const where = { container: zips.containerName, name: 'release.zip', etag };
    for (const [fileName, data] of [
      ['installers/Contoso-1.3-x64.msi', msi],
      ['installers/ContosoSetup.exe', exe],
    ] as const) {
      const name = installerBlobName(PRODUCT, 'zip-run1', fileName);
      expect(name).toBe(`${PRODUCT.toLowerCase()}/zip-run1/${fileName}`);
      const destination = packages.getBlockBlobClient(name);
      const stage = async () =>
        stageInstaller({
          zip: where,
          fileName,
          source: await zip.openEntry(fileName),
          destination,
          blockSizeBytes: 1024 * 1024,
        });
      expect(await stage()).toEqual({ bytes: data.length, copied: true });
      expect((await destination.downloadToBuffer()).equals(data)).toBe(true);
      const before = await destination.getProperties();
      // Again, as an activity run twice would: the copy is found, not made anew.
      expect(await stage()).toEqual({ bytes: data.length, copied: false });
      expect((await destination.getProperties()).etag).toBe(before.etag);
    }
  });

  it('never overwrites another file at the path, nor keeps a deflated copy whose CRC-32 is wrong', async () => {
    const { etag } = await dropZip('bad.zip', [
      { name: 'good.msi', data: msiOf('g') },
      { name: 'lying.msi', data: msiOf('l'), crc: 12345, deflate: true },
    ]);
    const zip = await openBlobZip(zips.getBlobClient('bad.zip'), etag);
    const where = { container: zips.containerName, name: 'bad.zip', etag };
    const taken = packages.getBlockBlobClient(installerBlobName(PRODUCT, 'zip-run2', 'good.msi'));
    await taken.upload(Buffer.from('someone else'), 12);
    const takenErr = await stageInstaller({
      zip: where,
      fileName: 'good.msi',
      source: await zip.openEntry('good.msi'),
      destination: taken,
    }).catch((e: unknown) => e);
    expect(takenErr).toBeInstanceOf(UploadError);
    expect(takenErr).toMatchObject({ code: 'InstallerPathTaken', retriable: false });
    expect((await taken.downloadToBuffer()).toString()).toBe('someone else');

    const lying = packages.getBlockBlobClient(installerBlobName(PRODUCT, 'zip-run2', 'lying.msi'));
    const crcErr = await stageInstaller({
      zip: where,
      fileName: 'lying.msi',
      source: await zip.openEntry('lying.msi'),
      destination: lying,
    }).catch((e: unknown) => e);
    expect(crcErr).toBeInstanceOf(InputError);
    expect((crcErr as InputError).problems[0]?.message).toMatch(/does not match its CRC-32/);
    expect(await lying.exists()).toBe(false);
  });

  it('reads only the zip version the run validated', async () => {
    const { etag } = await dropZip('moving.zip', [{ name: 'a.msi', data: msiOf('1') }]);
    const zip = await openBlobZip(zips.getBlobClient('moving.zip'), etag);
    const source = await zip.openEntry('a.msi');
    await dropZip('moving.zip', [{ name: 'a.msi', data: msiOf('2') }]);
    const err = await stageInstaller({
      zip: { container: zips.containerName, name: 'moving.zip', etag },
      fileName: 'a.msi',
      source,
      destination: packages.getBlockBlobClient(installerBlobName(PRODUCT, 'zip-run3', 'a.msi')),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceBlobError);
    expect(err).toMatchObject({ code: 'BlobChanged' });
  });

  it('hands out a read-only URL that expires', async () => {
    const blob = packages.getBlockBlobClient('url-test/setup.msi');
    await blob.upload(msiOf('u'), 4096);
    const url = await installerUrl(blob, 30);
    const query = new URL(url).searchParams;
    expect(query.get('sp')).toBe('r');
    expect(query.get('sr')).toBe('b');
    expect(Date.parse(query.get('se')!) - Date.now()).toBeGreaterThan(29 * 24 * 3600_000);
    expect((await fetch(url)).status).toBe(200);
    const write = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' });
    expect(write.status).toBe(403);
    const old = await installerUrl(blob, 1, new Date(Date.now() - 2 * 24 * 3600_000));
    expect((await fetch(old)).status).toBe(403);
  });
});
