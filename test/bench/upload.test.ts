import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rowsOf, type Table } from '../../bench/table';
import { benchUpload } from '../../bench/upload';
import { ZipCache } from '../../bench/zips';
import { testStorage } from '../helpers/azurite';

/**
 * A smoke run of the upload benchmark at a tiny size: every variant runs in its own process,
 * copies the zip byte for byte, and lands in the table with sane figures. No timing is asserted.
 */
describe('bench: upload (smoke)', () => {
  const KiB = 1024;
  let work: string;
  let zips: ZipCache;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'bench-upload-test-'));
    zips = new ZipCache(testStorage().connectionString, work);
  });
  afterAll(async () => {
    await zips.releaseAll();
    rmSync(work, { recursive: true, force: true });
  });

  it('measures every variant side by side, each copy identical to the source', async () => {
    const storage = testStorage();
    const sizes = [192 * KiB, 640 * KiB];
    const out = await benchUpload({
      storage: { ...storage, blobPort: storage.ports[0] },
      zips,
      sizes,
      repeats: () => 1,
      grid: { size: 192 * KiB, blockMiB: [1], concurrency: [1, 2] },
      fromUrlGrid: null,
      workDir: work,
      smoke: true,
    });
    const main = out.tables.find((t) => t.id === 'upload') as Table;
    expect(main.columns).toEqual(
      expect.arrayContaining(['size', 'variant', 'wall s', 'MiB/s', 'vs raw', 'peak RSS +MiB', 'path taken', 'md5 ok']),
    );
    const rows = rowsOf(main);
    for (const label of ['192 KiB', '640 KiB']) {
      const ofSize = rows.filter((r) => r.size === label);
      const variant = (prefix: string) => ofSize.find((r) => String(r.variant).startsWith(prefix))!;
      expect(variant('raw byte path')['vs raw']).toBe(1);
      for (const prefix of [
        'raw byte path',
        'naive',
        'ours, streamed: 8 MiB',
        'ours, auto: probe accepted',
        'ours, auto: probe refused',
      ]) {
        const r = variant(prefix);
        expect(r).toBeDefined();
        expect(r['md5 ok']).toBe(true);
        // The table rounds both: a fast copy can show 0 s, a slow one (a busy machine, 192 KiB in
        // over 4 s) 0 MiB/s, never both.
        expect((r['wall s'] as number) > 0 || (r['MiB/s'] as number) > 0).toBe(true);
      }
      // Each path is the one the row names: the probe decides, and says so.
      expect(variant('ours, auto: probe accepted')['path taken']).toBe('fromUrl, probe accepted');
      expect(variant('ours, auto: probe refused')['path taken']).toBe('stream, probe refused');
      expect(variant('ours, streamed: 8 MiB')['path taken']).toBe('stream');
      for (const prefix of ['naive', 'ours, streamed: 8 MiB', 'ours, auto']) {
        expect(variant(prefix)['peak RSS +MiB']).toBeGreaterThanOrEqual(0);
      }
    }
    const grid = out.tables.find((t) => t.id === 'upload-tuning-stream') as Table;
    expect(rowsOf(grid).map((r) => [r['block MiB'], r.concurrency])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    expect(rowsOf(grid).every((r) => r['md5 ok'] === true)).toBe(true);
    expect(out.goals).toEqual([]);
  });
});
