import { BlobServiceClient } from '@azure/storage-blob';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchIdentity } from '../../bench/identity';
import { rowsOf } from '../../bench/table';
import { testStorage } from '../helpers/azurite';

describe('bench: package identity check (smoke)', () => {
  const MiB = 1024 * 1024;
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'bench-identity-test-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('reads a stored package in place and inflates a deflated one once, both to the right identity', async () => {
    const container = BlobServiceClient.fromConnectionString(testStorage().connectionString).getContainerClient(
      `bench-identity-${Date.now().toString(36)}`,
    );
    try {
      const out = await benchIdentity({ container, size: 4 * MiB, workDir: work, smoke: true });
      const rows = rowsOf(out.tables[0]!);
      const of = (zip: string, method: string) =>
        rows.find((r) => r['package in the zip'] === zip && String(r.method).startsWith(method))!;
      const stored = of('stored', 'ours');
      const deflated = of('deflated', 'ours');
      expect([stored['identity ok'], deflated['identity ok']]).toEqual([true, true]);
      // In place: a small part of the zip, nothing inflated.
      expect([stored.passes, stored['bytes inflated']]).toEqual([0, 0]);
      expect(Number(stored['bytes read'])).toBeLessThan(Number(of('stored', 'whole')['bytes read']) / 10);
      // Deflated: one pass over the whole package, the zip read once.
      expect(deflated.passes).toBe(1);
      expect(Number(deflated['bytes inflated'])).toBeGreaterThanOrEqual(4 * MiB - 64 * 1024);
      expect(Number(of('deflated', 'whole')['bytes read'])).toBe(Number(deflated['zip size']));
    } finally {
      await container.deleteIfExists();
    }
  });
});
