/**
 * The Store budget every instance shares (lib/store/budget.ts): first the rule on its own, which
 * slot each caller gets for a given window and time (no clock at all); then several SharedBudgets,
 * as several instances, on one in-memory store whose writes are conditional like a blob's, on
 * jest's fake clock, so every send time is exact.
 */
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import {
  budgetRule,
  grantSlots,
  guardFor,
  isLate,
  SharedBudget,
  type BudgetRules,
  type BudgetStore,
  type BudgetWindow,
  type CallKind,
} from '../../../lib/store/budget';
import type { Pacer } from '../../../lib/store/pacing';

const W = 60_000;
const G = guardFor(W);
const SPAN = W + G;
const RULES: BudgetRules = { calls: budgetRule(20, W), commits: budgetRule(5, W) };
const T0 = 1_000_000;

const empty = (): BudgetWindow => ({ slots: [], commits: [] });
const calls = (n: number): CallKind[] => Array.from({ length: n }, () => 'call');

/** Every `limit + 1` consecutive send times at least a window and a guard apart. */
function expectWithinRule(slots: number[], limit: number, span = SPAN): void {
  const sorted = [...slots].sort((a, b) => a - b);
  for (let i = 0; i + limit < sorted.length; i++) {
    expect(sorted[i + limit]! - sorted[i]!).toBeGreaterThanOrEqual(span);
  }
}

describe('grantSlots: which slot a caller gets', () => {
  it('the guard is a tenth of the window, between 100 ms and 1 s', () => {
    expect(guardFor(60_000)).toBe(1000);
    expect(guardFor(6000)).toBe(600);
    expect(guardFor(500)).toBe(100);
  });

  it('gives the first `limit` callers now and leaves the rest waiting until a slot is within one window', () => {
    const g = grantSlots(empty(), calls(25), T0, RULES);
    expect(g.slots.slice(0, 20)).toEqual(Array(20).fill(T0));
    expect(g.slots.slice(20)).toEqual(Array(5).fill(undefined));
    // The 21st slot is a window and a guard after the first; granted no sooner than a window ahead.
    expect(g.retryAt).toBe(T0 + SPAN - W);
    expect(g.window.slots).toHaveLength(20);
  });

  it('asked again at retryAt, gives the next slots a window and a guard after the first ones', () => {
    const first = grantSlots(empty(), calls(20), T0, RULES);
    const again = grantSlots(first.window, calls(3), first.retryAt ?? T0 + G, RULES);
    expect(again.slots).toEqual([T0 + SPAN, T0 + SPAN, T0 + SPAN]);
  });

  it('spreads slots already granted by other instances: a slot goes where a window has room', () => {
    // Ten calls at T0, ten at T0 + 30 s (another instance): the window is full until T0 + SPAN.
    const window = { slots: [...Array(10).fill(T0), ...Array(10).fill(T0 + 30_000)], commits: [] };
    const g = grantSlots(window, calls(12), T0 + 31_000, RULES);
    expect(g.slots.slice(0, 10)).toEqual(Array(10).fill(T0 + SPAN));
    // Then the window after the other instance's ten: exactly at the horizon, so granted...
    expect(g.slots.slice(10)).toEqual([T0 + 30_000 + SPAN, T0 + 30_000 + SPAN]);
    expectWithinRule(g.window.slots, 20);
    // ...and a millisecond later than the horizon, not.
    const later = grantSlots(window, calls(12), T0 + 30_999, RULES);
    expect(later.slots.slice(10)).toEqual([undefined, undefined]);
    expect(later.retryAt).toBe(T0 + 30_000 + SPAN - W);
  });

  it('drops slots a window and a guard old, and what is not a number', () => {
    const window = { slots: [T0 - SPAN, T0 - SPAN + 1, 'x', null, Number.NaN] as number[], commits: {} as number[] };
    const g = grantSlots(window, calls(1), T0, RULES);
    expect(g.window).toEqual({ slots: [T0 - SPAN + 1, T0], commits: [] });
  });

  it('a commit takes a slot in both lists; one held back by the commit limit does not hold back the calls behind it', () => {
    const kinds: CallKind[] = ['commit', 'commit', 'commit', 'commit', 'commit', 'commit', 'call', 'call'];
    const g = grantSlots(empty(), kinds, T0, RULES);
    expect(g.slots).toEqual([T0, T0, T0, T0, T0, undefined, T0, T0]);
    expect(g.window.commits).toEqual(Array(5).fill(T0));
    expect(g.window.slots).toHaveLength(7);
    expect(g.retryAt).toBe(T0 + SPAN - W);
  });

  it('a commit gets the earliest time that fits both lists', () => {
    // Calls full at T0 .. T0+19 ms; commits full from T0 + 10 s.
    const window = { slots: Array.from({ length: 20 }, (_, i) => T0 + i), commits: Array(5).fill(T0 + 10_000) };
    const g = grantSlots(window, ['commit', 'call'], T0 + 50_000, { ...RULES, horizonMs: 10 * W });
    expect(g.slots).toEqual([T0 + 10_000 + SPAN, T0 + SPAN]);
  });

  it('without a commit rule, a commit is a call', () => {
    const g = grantSlots(empty(), ['commit', 'commit'], T0, { calls: budgetRule(1, W) });
    expect(g.slots).toEqual([T0, undefined]);
    expect(g.window.commits).toEqual([]);
  });

  it('a saturating stream of callers gets exactly `limit` slots per window and guard, none wasted', () => {
    let window = empty();
    let now = T0;
    const granted: number[] = [];
    let pending = 200;
    while (pending > 0) {
      const g = grantSlots(window, calls(pending), now, RULES);
      window = g.window;
      const got = g.slots.filter((s): s is number => s !== undefined);
      granted.push(...got);
      pending -= got.length;
      now = g.retryAt ?? now;
    }
    expectWithinRule(granted, 20);
    expect(granted.sort((a, b) => a - b)[199]! - granted[0]!).toBe(9 * SPAN);
  });

  it('never breaks the rule, whatever the order and times of the callers (seeded random walk)', () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let window = empty();
    let now = T0;
    const all: number[] = [];
    const commits: number[] = [];
    for (let step = 0; step < 400; step++) {
      now += Math.floor(rand() * 8000);
      const kinds = Array.from({ length: 1 + Math.floor(rand() * 6) }, (): CallKind =>
        rand() < 0.2 ? 'commit' : 'call',
      );
      const g = grantSlots(window, kinds, now, RULES);
      g.slots.forEach((s, i) => {
        if (s === undefined) return;
        expect(s).toBeGreaterThanOrEqual(now);
        expect(s).toBeLessThanOrEqual(now + W);
        all.push(s);
        if (kinds[i] === 'commit') commits.push(s);
      });
      window = g.window;
    }
    expect(all.length).toBeGreaterThan(300);
    expectWithinRule(all, 20);
    expectWithinRule(commits, 5);
  });

  it('a caller is late when it reaches its slot more than half a guard after it', () => {
    expect(isLate(T0, T0 + G / 2, RULES.calls)).toBe(false);
    expect(isLate(T0, T0 + G / 2 + 1, RULES.calls)).toBe(true);
  });
});

/** A blob in memory: reads give the version, writes succeed only on the version read. */
class MemoryStore implements BudgetStore {
  doc: BudgetWindow = empty();
  version = 0;
  writes = 0;
  conflicts = 0;
  failing = false;
  async read(): Promise<{ window: BudgetWindow; etag?: string }> {
    await Promise.resolve();
    if (this.failing) throw new Error('storage is down');
    return {
      window: JSON.parse(JSON.stringify(this.doc)) as BudgetWindow,
      etag: this.version ? String(this.version) : undefined,
    };
  }
  async write(window: BudgetWindow, etag: string | undefined): Promise<boolean> {
    await Promise.resolve();
    if (this.failing) throw new Error('storage is down');
    if ((etag ?? '') !== (this.version ? String(this.version) : '')) {
      this.conflicts++;
      return false;
    }
    this.doc = JSON.parse(JSON.stringify(window)) as BudgetWindow;
    this.version++;
    this.writes++;
    return true;
  }
}

const neverLocal: Pacer = {
  acquire: () => Promise.reject(new Error('the fallback must not be used')),
};

function commitRequest() {
  return createPipelineRequest({
    url: 'https://store/v1.0/my/applications/9N1/submissions/1/commit',
    method: 'POST',
    headers: createHttpHeaders(),
  });
}

/** Runs the fake clock until `all` settles. */
async function settle<T>(all: Promise<T>): Promise<T> {
  let done = false;
  void all.then(
    () => (done = true),
    () => (done = true),
  );
  for (;;) {
    // The in-memory store answers on microtasks: let them run before the clock moves.
    for (let i = 0; i < 100 && !done; i++) await Promise.resolve();
    if (done) return all;
    await jest.advanceTimersToNextTimerAsync();
  }
}

describe('SharedBudget: several instances on one store', () => {
  beforeEach(() => jest.useFakeTimers({ now: T0 }));
  afterEach(() => jest.useRealTimers());

  const rules: BudgetRules = { calls: budgetRule(20, 2000), commits: budgetRule(5, 2000) };
  const span = 2000 + guardFor(2000);

  it('three instances with 40 callers each: sends never break the rule, and the burst takes the windows it must', async () => {
    const store = new MemoryStore();
    const instances = [0, 1, 2].map(() => new SharedBudget(store, rules, neverLocal));
    const sent: Array<{ at: number; commit: boolean }> = [];
    const all = Promise.all(
      instances.flatMap((budget) =>
        Array.from({ length: 40 }, async (_, i) => {
          const commit = i % 8 === 0;
          const release = await budget.acquire(commit ? commitRequest() : undefined);
          sent.push({ at: Date.now(), commit });
          release();
        }),
      ),
    );
    await settle(all);
    expect(sent).toHaveLength(120);
    expectWithinRule(
      sent.map((s) => s.at),
      20,
      span,
    );
    expectWithinRule(
      sent.filter((s) => s.commit).map((s) => s.at),
      5,
      span,
    );
    const times = sent.map((s) => s.at).sort((a, b) => a - b);
    // 120 calls, 20 per span: 6 spans of slots, the last starting 5 spans after the first.
    expect(times[119]! - times[0]!).toBe(5 * span);
    expect(store.conflicts).toBeGreaterThan(0);
    // The callers of one instance share their writes: far fewer writes than calls.
    expect(store.writes).toBeLessThan(60);
  });

  it('a caller that reaches its slot late gives it back and takes a new one: the tenant loses no slot', async () => {
    const store = new MemoryStore();
    // Every wake-up half a second late (a busy event loop); one call per window.
    const oversleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms + 500));
    const budget = new SharedBudget(store, { calls: budgetRule(1, 2000) }, neverLocal, { sleep: oversleep });
    await settle(budget.acquire());
    expect(Date.now()).toBe(T0);
    await settle(budget.acquire());
    // Granted T0 + span, woke 500 ms after it: gave it back and sent at once, on a new slot.
    expect(Date.now()).toBe(T0 + span + 500);
    expect(store.writes).toBe(3);
    expect(store.doc.slots).toEqual([T0 + span + 500]);
  });

  it('grants ahead of now by the longest recent write, so a slow write does not make its callers late', async () => {
    const store = new MemoryStore();
    const slow: BudgetStore = {
      read: () => store.read(),
      write: async (window, etag) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return store.write(window, etag);
      },
    };
    const budget = new SharedBudget(slow, rules, neverLocal);
    await settle(budget.acquire());
    // The first write took 300 ms, with no lead yet: its caller was late, gave the slot back and
    // took one 300 ms ahead of the read, which it reached on time, as the write ended.
    expect(budget.leadMs).toBe(300);
    expect(store.doc.slots).toEqual([T0 + 600]);
    expect(Date.now()).toBe(T0 + 600);
    const at = Date.now();
    await settle(budget.acquire());
    expect(Date.now()).toBe(at + 300);
    expect(store.doc.slots).toEqual([T0 + 600, at + 300]);
  });

  it('falls back to the process pacer while storage fails, warns once, and uses storage again after', async () => {
    const store = new MemoryStore();
    const warnings: string[] = [];
    let local = 0;
    const fallback: Pacer = {
      acquire: async () => {
        local++;
        return () => undefined;
      },
    };
    const budget = new SharedBudget(store, rules, fallback, { warn: (m) => warnings.push(m) });
    store.failing = true;
    await settle(Promise.all([budget.acquire(), budget.acquire()]));
    await settle(budget.acquire());
    expect(local).toBe(3);
    expect(warnings).toEqual(['the shared Store budget is unavailable (storage is down); pacing per process']);
    store.failing = false;
    await settle(budget.acquire());
    expect(local).toBe(3);
    expect(store.doc.slots).toHaveLength(1);
  });

  it('a caller arriving while a commit waits for the commit limit is not held behind it', async () => {
    const store = new MemoryStore();
    const budget = new SharedBudget(store, rules, neverLocal);
    const commits = Array.from({ length: 6 }, () => budget.acquire(commitRequest()));
    await settle(Promise.all(commits.slice(0, 5)));
    const start = Date.now();
    await settle(budget.acquire());
    expect(Date.now()).toBe(start);
    await settle(commits[5]!);
    expect(Date.now()).toBe(T0 + span);
  });
});
