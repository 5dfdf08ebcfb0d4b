import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchManifest } from '../../bench/manifest';
import { rowsOf } from '../../bench/table';
import { ZipCache } from '../../bench/zips';
import { testStorage } from '../helpers/azurite';

describe('bench: manifest read (smoke)', () => {
  const KiB = 1024;
  const MiB = 1024 * KiB;
  let work: string;
  let zips: ZipCache;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'bench-manifest-test-'));
    zips = new ZipCache(testStorage().connectionString, work);
  });
  afterAll(async () => {
    await zips.releaseAll();
    rmSync(work, { recursive: true, force: true });
  });

  it('reads the manifest with a few range reads, far fewer bytes than the whole blob', async () => {
    const out = await benchManifest({
      zips,
      bigSize: 4 * MiB,
      many: { entries: 120, entryBytes: 24 * KiB },
      repeats: 1,
      tailPrefetchVariant: 1 * MiB,
      smoke: true,
    });
    const rows = rowsOf(out.tables[0]!);
    expect(rows).toHaveLength(6);
    expect(rows.every((r) => r['manifest ok'] === true)).toBe(true);
    for (const zip of ['one package, 4 MiB', '120 entries']) {
      const ofZip = rows.filter((r) => r.zip === zip);
      const ours = ofZip.find((r) => String(r.method).startsWith('ours: '))!;
      const whole = ofZip.find((r) => String(r.method).startsWith('whole blob'))!;
      expect(whole.requests).toBe(1);
      expect(ours.requests).toBeGreaterThanOrEqual(2);
      expect(ours.requests).toBeLessThanOrEqual(4);
      expect(ours['bytes read']).toBeLessThan(whole['bytes read'] as number);
      expect(ofZip.every((r) => r.entries === ofZip[0]!.entries)).toBe(true);
    }
    const big = rows.find((r) => r.zip === 'one package, 4 MiB' && String(r.method).startsWith('whole blob'))!;
    expect(big['bytes read']).toBeGreaterThanOrEqual(4 * MiB);
    // The many-entries zip keeps submission.json in the middle: outside both prefetched ends.
    const many = rows.find((r) => r.zip === '120 entries' && String(r.method).startsWith('ours with'))!;
    expect(many.requests).toBeGreaterThanOrEqual(3);
  });
});
