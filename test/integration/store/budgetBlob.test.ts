/**
 * The shared Store budget's document in a real blob (Azurite): conditional writes lose to a
 * write in between, a first write to a first write, and several budgets on one blob (as several
 * instances) hand out slots that keep the rule. Slot times come from an injected clock that
 * stands still, so the grants do not depend on how fast this machine is.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { blobBudgetStore } from '../../../lib/store/budgetBlob';
import { budgetRule, SharedBudget } from '../../../lib/store/budget';
import type { Pacer } from '../../../lib/store/pacing';
import { freshContainer, testStorage } from '../../helpers/azurite';

const neverLocal: Pacer = { acquire: () => Promise.reject(new Error('the fallback must not be used')) };

describe('blobBudgetStore', () => {
  it('reads an absent blob as an empty window, and writes only on the version it read', async () => {
    const container = await freshContainer('budget');
    const store = blobBudgetStore(container, 'tenant.json', 'https://store/|tenant');
    const first = await store.read();
    expect(first).toEqual({ window: { slots: [], commits: [] } });
    expect(await store.write({ slots: [1], commits: [] }, first.etag)).toBe(true);
    // A second first write loses.
    expect(await store.write({ slots: [2], commits: [] }, undefined)).toBe(false);
    const second = await store.read();
    expect(second.window).toEqual({ slots: [1], commits: [] });
    expect(await store.write({ slots: [1, 3], commits: [3] }, second.etag)).toBe(true);
    // A write on the version read before the last write loses.
    expect(await store.write({ slots: [9], commits: [] }, second.etag)).toBe(false);
    expect((await store.read()).window).toEqual({ slots: [1, 3], commits: [3] });
    const text = (await container.getBlobClient('tenant.json').downloadToBuffer()).toString('utf8');
    expect(JSON.parse(text)).toEqual({ key: 'https://store/|tenant', slots: [1, 3], commits: [3] });
  });

  it('creates its container on the first write, and reads a document that does not parse as empty', async () => {
    const service = BlobServiceClient.fromConnectionString(testStorage().connectionString);
    const container = service.getContainerClient(`budget-new-${Date.now().toString(36)}`);
    const store = blobBudgetStore(container, 'x.json', 'k');
    expect(await store.write({ slots: [5], commits: [] }, undefined)).toBe(true);
    await container.getBlockBlobClient('x.json').upload('not json', 8);
    const read = await store.read();
    expect(read.window).toEqual({ slots: [], commits: [] });
    expect(await store.write({ slots: [6], commits: [] }, read.etag)).toBe(true);
    await container.delete();
  });

  it('several budgets on one blob grant 60 callers slots that keep 20 per window and guard', async () => {
    const container = await freshContainer('budget');
    const now = 1_000_000;
    const rules = { calls: budgetRule(20, 60_000), horizonMs: 10 * 60_000 };
    const span = 60_000 + rules.calls.guardMs;
    // The clock stands still and sleeping is free: only the grants are under test.
    const budgets = [0, 1, 2].map(
      () =>
        new SharedBudget(blobBudgetStore(container, 'shared.json', 'k'), rules, neverLocal, {
          now: () => now,
          sleep: async () => undefined,
        }),
    );
    await Promise.all(budgets.flatMap((b) => Array.from({ length: 20 }, () => b.acquire())));
    const { window } = await blobBudgetStore(container, 'shared.json', 'k').read();
    expect(window.slots).toHaveLength(60);
    const sorted = [...window.slots].sort((a, b) => a - b);
    expect(sorted.slice(0, 20)).toEqual(Array(20).fill(now));
    expect(sorted.slice(20, 40)).toEqual(Array(20).fill(now + span));
    expect(sorted.slice(40)).toEqual(Array(20).fill(now + 2 * span));
  });
});
