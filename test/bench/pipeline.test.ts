import { benchPipeline } from '../../bench/pipeline';
import { benchProducts } from '../../bench/products';
import { rowsOf } from '../../bench/table';
import { testStorage } from '../helpers/azurite';

/** Smoke runs on the sandbox: a faster host clock and blob scan, since only the machinery is checked. */
describe('bench: pipeline and many products (smoke)', () => {
  it('splits landing → CommitStarted into parts that add up', async () => {
    const out = await benchPipeline({
      azurite: testStorage(),
      runs: 1,
      clockSpeed: 20,
      blobPollIntervalMs: 150,
      smoke: true,
    });
    const rows = rowsOf(out.tables[0]!);
    expect(rows.map((r) => r.runs)).toEqual(['first run (cold worker)', 'median of 1 warm runs']);
    for (const r of rows) {
      const parts = ['trigger detection ms', 'durable timers ms', 'orchestration ms', 'activities ms'].map(
        (c) => r[c] as number,
      );
      // Orchestration is the remainder: millisecond rounding of a dozen durations may push it a little below zero.
      expect(parts.slice(0, 2).every((p) => p >= 0)).toBe(true);
      expect(parts[2]).toBeGreaterThan(-20);
      expect(parts[3]).toBeGreaterThan(0);
      expect(
        Math.abs(parts.reduce((a, b) => a + b, 0) - (r['landing → CommitStarted ms'] as number)),
      ).toBeLessThanOrEqual(2);
      expect(r['of which Store API ms'] as number).toBeLessThanOrEqual(r['activities ms'] as number);
      // resolve (product + its published submission), create, get + put, get for the upload, commit
      expect(r['Store API calls'] as number).toBeGreaterThanOrEqual(5);
    }
  });

  it('runs every dropped product to the end and reports host CPU per run', async () => {
    const out = await benchProducts({
      azurite: testStorage(),
      products: 3,
      clockSpeed: 20,
      blobPollIntervalMs: 150,
      smoke: true,
    });
    const rows = rowsOf(out.tables[0]!);
    expect(rows.map((r) => [r.products, r['runs succeeded']])).toEqual([
      [1, 1],
      [3, 3],
    ]);
    for (const r of rows) {
      expect(r['host CPU per run ms']).toBeGreaterThan(0);
      expect(r['run latency p95 s'] as number).toBeGreaterThanOrEqual(r['run latency p50 s'] as number);
    }
  });
});
