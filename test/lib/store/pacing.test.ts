/**
 * The pacer behind guarantee 9, on its own and on jest's fake clock (timers and Date.now), so
 * every start time is exact and a busy machine cannot move one: no window ever sees more than
 * the limit, calls go first come first served, and a burst takes exactly the windows the limit
 * requires, not one more.
 */
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { CallPacer, isCommitCall, pacingPolicy } from '../../../lib/store/pacing';

interface Call {
  index: number;
  start: number;
  end: number;
}

/** `count` calls at once, each holding its slot `duration(i)` fake ms; resolves when all are done. */
async function burst(pacer: CallPacer, count: number, duration: (i: number) => number): Promise<Call[]> {
  const calls: Call[] = [];
  const all = Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const release = await pacer.acquire();
      const start = Date.now();
      await new Promise((r) => setTimeout(r, duration(index)));
      calls.push({ index, start, end: Date.now() });
      release();
    }),
  );
  // Runs the fake clock until every call is done (each step fires the next due timer).
  let done = false;
  void all.then(() => (done = true));
  while (!done) await jest.advanceTimersToNextTimerAsync();
  await all;
  return calls.sort((a, b) => a.start - b.start || a.index - b.index);
}

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('CallPacer', () => {
  it('never lets more than the limit start within a window of earlier answers', async () => {
    const limit = 4;
    const windowMs = 150;
    const pacer = new CallPacer(limit, windowMs);
    const calls = await burst(pacer, 17, (i) => (i * 7) % 40);
    // When a call starts, fewer than `limit` others are in flight or answered within the window.
    for (const c of calls) {
      const counted = calls.filter((o) => o !== c && o.start <= c.start && o.end > c.start - windowMs);
      expect(counted.length).toBeLessThan(limit);
    }
    // First come, first served.
    expect(calls.map((c) => c.index)).toEqual([...calls.map((c) => c.index)].sort((a, b) => a - b));
  });

  it('takes exactly the windows the limit requires for a burst, not more', async () => {
    const limit = 5;
    const windowMs = 100;
    const pacer = new CallPacer(limit, windowMs);
    const began = Date.now();
    const calls = await burst(pacer, 20, () => 1);
    // 20 calls at 5 per 100 ms, each answered 1 ms after it starts: a group of five starts as soon
    // as the previous group's answers have left the window (answer + window + the 1 ms margin).
    const groups = [0, 1, 2, 3].map((g) => calls.slice(g * limit, (g + 1) * limit).map((c) => c.start - began));
    expect(groups).toEqual([
      [0, 0, 0, 0, 0],
      [102, 102, 102, 102, 102],
      [204, 204, 204, 204, 204],
      [306, 306, 306, 306, 306],
    ]);
    expect(pacer.queued).toBe(0);
  });

  it('releases a slot once however often release is called', async () => {
    const pacer = new CallPacer(1, 50);
    const release = await pacer.acquire();
    const answeredAt = Date.now();
    release();
    release();
    // A second release would have freed a second slot: both waiting calls would start at once.
    const calls = await burst(pacer, 2, () => 0);
    expect(calls.map((c) => c.start - answeredAt)).toEqual([51, 102]);
  });
});

const request = (method: string, path: string) =>
  createPipelineRequest({ method: method as 'POST', url: `https://manage.devcenter.microsoft.com/v1.0/my/${path}` });
const answer = (req: ReturnType<typeof request>): Promise<PipelineResponse> =>
  Promise.resolve({ request: req, status: 200, headers: createHttpHeaders() });

describe('commit pacing', () => {
  test('isCommitCall knows commits of apps, flights and add-ons, and nothing else', () => {
    expect(isCommitCall(request('POST', 'applications/9NBLGGH4R315/submissions/1152921504621243540/commit'))).toBe(
      true,
    );
    expect(isCommitCall(request('POST', 'applications/A/flights/f/submissions/1/Commit'))).toBe(true);
    expect(isCommitCall(request('POST', 'inappproducts/9NBLGGH4TNNR/submissions/1/commit'))).toBe(true);
    expect(isCommitCall(request('GET', 'applications/A/submissions/1/commit'))).toBe(false);
    expect(isCommitCall(request('POST', 'applications/A/submissions'))).toBe(false);
  });

  test('a commit beyond the commit limit waits for the window while other calls go by', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const pacer = new CallPacer(1, 60_000);
    const policy = pacingPolicy(pacer, isCommitCall, 'commits');
    const commit = (id: string) => request('POST', `applications/A/submissions/${id}/commit`);
    await policy.sendRequest(commit('1'), answer);
    let second = false;
    const pending = policy.sendRequest(commit('2'), answer).then(() => (second = true));
    await new Promise((r) => setImmediate(r));
    expect([pacer.queued, second]).toEqual([1, false]);
    // Not a commit: not held.
    await policy.sendRequest(request('GET', 'applications/A'), answer);
    jest.advanceTimersByTime(60_002);
    await pending;
    expect(second).toBe(true);
    jest.useRealTimers();
  });
});
