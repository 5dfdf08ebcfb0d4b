import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchMemory, FLEX_INSTANCE_MB } from '../../bench/memory';
import { parseArgs } from '../../bench/run';
import { KiB, MiB, rowsOf } from '../../bench/table';
import { testStorage } from '../helpers/azurite';

describe('bench: worker memory of a whole run (smoke)', () => {
  it('takes the memory sizes from --memory-sizes, 64 MiB and 2 GiB by default, toy sizes in smoke', () => {
    expect(parseArgs([]).memorySizes).toEqual([64 * MiB, 2048 * MiB]);
    expect(parseArgs(['--smoke']).memorySizes).toEqual([256 * KiB, 1 * MiB]);
    expect(parseArgs(['--memory-sizes', '1M,8M']).memorySizes).toEqual([1 * MiB, 8 * MiB]);
    expect(parseArgs(['--only', 'memory']).only).toEqual(['memory']);
  });

  it("runs each zip to Published on a Flex host and reads the host process's peak RSS", async () => {
    const work = mkdtempSync(join(tmpdir(), 'bench-memory-'));
    try {
      const out = await benchMemory({
        azurite: testStorage(),
        sizes: [1 * MiB, 256 * KiB],
        workDir: work,
        clockSpeed: 20,
        blobPollIntervalMs: 150,
        smoke: true,
      });
      const rows = rowsOf(out.tables[0]!);
      expect(rows.map((r) => r['zip size'])).toEqual(['256 KiB', '1 MiB']);
      for (const r of rows) {
        expect(r['run outcome']).toBe('Succeeded');
        // The emulator read the uploaded zip at commit; it may still be publishing when the run ends.
        expect(r.Store).toMatch(/^Publish(ing|ed), zip read at commit$/);
        expect(r['uploaded bytes = zip']).toBe(true);
        const baseline = r['baseline RSS MiB'] as number;
        const peak = r['peak RSS MiB'] as number;
        expect(baseline).toBeGreaterThan(0);
        expect(peak).toBeGreaterThanOrEqual(baseline);
        expect(Math.abs((r['growth MiB'] as number) - (peak - baseline))).toBeLessThanOrEqual(1);
        for (const mb of FLEX_INSTANCE_MB)
          expect(String(r[`fits ${mb} MB (margin)`])).toMatch(/^(yes|no) \([+-]?\d+ MiB\)$/);
      }
      expect(rows[0]!['peak vs 256 KiB']).toBe(1);
      expect(out.goals[0]!.met).toBeNull();
      // The zips lived on disk only for their run.
      expect(readdirSync(work)).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
