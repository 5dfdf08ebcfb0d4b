/** Reading a package's identity from a zip in blob storage (the in-memory cases: test/lib/package/identity.test.ts). */
import type { ContainerClient } from '@azure/storage-blob';
import { readPackageInfo } from '../../../lib/package/identity';
import { openBlobZip } from '../../../lib/zip/blobZip';
import { freshContainer } from '../../helpers/azurite';
import { appxPackage, manifests, noise, rawZip } from '../../helpers/zips';

describe('readPackageInfo on Azurite', () => {
  test('reads a package from a zip in blob storage by range reads, deflated ones through one streamed download', async () => {
    const container: ContainerClient = await freshContainer('pkg');
    const pkg = appxPackage({ version: '9.8.7.6', payload: [{ name: 'big.bin', data: noise(2 << 20) }] });
    const bytes = rawZip([
      { name: 'submission.json', data: JSON.stringify(manifests.app()), deflate: true },
      { name: 'stored.msix', data: pkg },
      { name: 'deflated.msix', data: pkg, deflate: true },
    ]);
    const blob = container.getBlockBlobClient('pkg.zip');
    const { etag } = await blob.upload(bytes, bytes.length);
    const zip = await openBlobZip(blob, etag!);
    const before = { ...zip.stats };
    const stored = await readPackageInfo(zip, 'stored.msix');
    expect(stored.identity.version).toBe('9.8.7.6');
    expect(zip.stats.bytes - before.bytes).toBeLessThan(256 * 1024);
    const deflated = await readPackageInfo(zip, 'deflated.msix');
    expect(deflated.identity.version).toBe('9.8.7.6');
    expect(deflated.read).toMatchObject({ method: 'deflated', passes: 1 });
  });
});
