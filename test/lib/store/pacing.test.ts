/**
 * The pacer behind guarantee 9, on its own: whatever the calls' durations, no window ever sees
 * more than the limit, calls go first come first served, and a burst takes about as long as the
 * limit requires and no longer.
 */
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { CallPacer, isCommitCall, pacingPolicy } from '../../../lib/store/pacing';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Call {
  index: number;
  start: number;
  end: number;
}

async function burst(pacer: CallPacer, count: number, duration: (i: number) => number): Promise<Call[]> {
  const calls: Call[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const release = await pacer.acquire();
      const start = Date.now();
      await sleep(duration(index));
      const end = Date.now();
      calls.push({ index, start, end });
      release();
    }),
  );
  return calls.sort((a, b) => a.start - b.start || a.index - b.index);
}

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

  it('takes about the time the limit requires for a burst, not more', async () => {
    const limit = 5;
    const windowMs = 100;
    const pacer = new CallPacer(limit, windowMs);
    const began = Date.now();
    await burst(pacer, 20, () => 1);
    const took = Date.now() - began;
    // 20 calls at 5 per 100 ms: three full windows must pass before the last five may start.
    expect(took).toBeGreaterThanOrEqual(3 * windowMs);
    expect(took).toBeLessThan(3 * windowMs + 150);
    expect(pacer.queued).toBe(0);
  });

  it('releases a slot once however often release is called', async () => {
    const pacer = new CallPacer(1, 50);
    const release = await pacer.acquire();
    release();
    release();
    const began = Date.now();
    await Promise.all([pacer.acquire().then((r) => r()), pacer.acquire().then((r) => r())]);
    expect(Date.now() - began).toBeGreaterThanOrEqual(90);
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
