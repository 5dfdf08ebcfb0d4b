/**
 * Issue 10.4: the Store's budget holds across instances. Three host processes on one task hub,
 * one Store emulator and one Azurite, as a Function App scaled out to three instances, each
 * running 12 runs of its own at once (360 Store calls, 18 windows of the limit). Each process
 * alone would pace itself to the whole limit; with STORE_BUDGET_CONTAINER they take their send
 * times from one window in storage (lib/store/budget.ts).
 *
 * Asserted: every run Succeeded, each host committed its own 12; the emulator answered at most
 * 1 % of the calls with 429; and the time from the first to the last Store call in the
 * emulator's own request log is within 1.5 times the least the emulator's rate limits allow for
 * the calls it answered. Both sides of the ratio come from the emulator (its settings and its
 * log), none from this test's clock. The window is compressed to 6 s (20 calls, 5 commits), not
 * shorter: at 2 s the hosts of a machine as loaded as CI could not ask fast enough to fill it,
 * and the ratio measured the machine, not the budget.
 *
 * Why a few 429s may remain: the hosts send 21 calls at least a window and the guard (600 ms
 * here) apart, on one clock (with a 300 ms guard they were 182 ms over the window at the
 * closest, and the emulator still answered 3 of 243 with 429; with 600 ms, 0 to 2 of 362); the
 * emulator counts them when its event loop reads them, and on a machine at load 12 that comes late by
 * more than the guard now and then, so it sees 21 in its window where the hosts sent them
 * further apart. Each such 429 costs its run one retry after Retry-After (on a new slot), never
 * the run; on the Store's minute the guard is a second, and the stalls that would exceed it are
 * rarer still.
 */
import { randomBytes } from 'node:crypto';
import {
  apiCalls,
  apiSubmissions,
  appIds,
  appZip,
  drop,
  seedApp,
  seedOf,
  startReliabilitySandbox,
  type ExtraHost,
  type ReliabilitySandbox,
} from './support';
import { ON_REAL_ENGINE } from '../helpers/engine';

const HOSTS = 3;
const RUNS_PER_HOST = 12;
const LIMIT = 20;
const COMMITS = 5;
const WINDOW_MS = 6000;
const MAX_RATIO = 1.5;
/** 429s allowed, as a share of the calls answered (see the header). */
const MAX_THROTTLED_SHARE = 0.01;
/** A host's log line for a commit the Store took (orchestrations/activities/activity.ts). */
const COMMITTED = /POST applications\/\w+\/submissions\/\d+\/commit -> 202 /;

describe('scale-out within the Store budget', () => {
  const ids = appIds('BUDG', HOSTS * RUNS_PER_HOST);
  const suffix = randomBytes(4).toString('hex');
  let sandbox: ReliabilitySandbox;
  const extra: ExtraHost[] = [];
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({
      emulator: {
        seed: seedOf(ids.map((id) => seedApp(id))),
        config: {
          rateLimitEnabled: true,
          rateLimitPerMinute: LIMIT,
          rateLimitWindowMs: WINDOW_MS,
          commitRateLimitPerMinute: COMMITS,
        },
      },
      settings: { STORE_BUDGET_CONTAINER: `budget-${suffix}` },
    });
    // Every host up before the first run (each runs the instances it starts).
    for (let i = 1; i < HOSTS; i++) extra.push(await sandbox.addHost(`zips-${i}-${suffix}`));
  });
  afterAll(() => sandbox?.stop());

  it(`${HOSTS} hosts with ${RUNS_PER_HOST} runs each: all succeed, at most 1 % 429s, within ${MAX_RATIO}x the least time the limits allow`, async () => {
    const perHost = [0, ...extra.map((_, i) => i + 1)].map((h) =>
      ids.slice(h * RUNS_PER_HOST, (h + 1) * RUNS_PER_HOST),
    );
    const runs = await Promise.all(
      perHost.flatMap((hostIds, h) =>
        hostIds.map(async (id) => {
          const zip = appZip(id);
          const name = `scale/${id}.zip`;
          return h === 0
            ? { host: h, id: await drop(sandbox, name, zip) }
            : { host: h, id: await extra[h - 1]!.drop(name, zip) };
        }),
      ),
    );
    const docs = await Promise.all(
      runs.map(({ host, id }) => (host === 0 ? sandbox.finished(id) : extra[host - 1]!.finished(id))),
    );
    const state = await sandbox.emulator.admin.state();
    const limits = await sandbox.emulator.admin.config();

    const calls = apiCalls(state);
    const answered = calls.filter((c) => c.status !== 429);
    const throttled = calls.filter((c) => c.status === 429);
    const commits = answered.filter((c) => c.method === 'POST' && /\/commit$/i.test(c.path));
    // In a sliding window of W that lets L calls in, call k·L+1 comes at least k·W after the
    // first: the least first-to-last time for N calls is floor((N-1)/L)·W; commits likewise.
    const window = limits.rateLimitWindowMs;
    const minimumMs = Math.max(
      Math.floor((answered.length - 1) / limits.rateLimitPerMinute) * window,
      Math.floor((commits.length - 1) / limits.commitRateLimitPerMinute) * window,
    );
    const times = calls.map((c) => Date.parse(c.time)).sort((a, b) => a - b);
    const spanMs = times[times.length - 1]! - times[0]!;
    const ratio = spanMs / minimumMs;
    // Calls per window from the first call: where the time went (ramp-up, full windows, the tail).
    const perWindow = Array.from({ length: Math.floor(spanMs / window) + 1 }, () => 0);
    for (const t of times) perWindow[Math.floor((t - times[0]!) / window)]! += 1;
    console.log(
      `shared budget: ${HOSTS} hosts x ${RUNS_PER_HOST} runs; ${answered.length} Store calls answered ` +
        `(${commits.length} commits), ${throttled.length} answered 429; first to last call ${spanMs} ms ` +
        `(emulator log); least the limits allow ${minimumMs} ms (${limits.rateLimitPerMinute} calls, ` +
        `${limits.commitRateLimitPerMinute} commits per ${window} ms); ratio ${ratio.toFixed(2)}; ` +
        `calls per window: ${perWindow.join(' ')}`,
    );

    expect(docs.filter((d) => d.status !== 'Succeeded').map((d) => d.failure)).toEqual([]);
    for (const id of ids) expect(apiSubmissions(state, id)).toHaveLength(1);
    // The budget was shared by several processes, not used by one. On the sandbox's engine each
    // host runs the instances it started; on the real extension the hosts of one task hub take
    // each other's work items from the shared queues (seen: 10, 15 and 11 commits), so only the
    // total is fixed there, and more than one host must have committed.
    const committed = (logs: Array<{ message: string }>) => logs.filter((l) => COMMITTED.test(l.message)).length;
    const commitsPerHost = [sandbox.logs, ...extra.map((h) => h.logs)].map(committed);
    if (ON_REAL_ENGINE) {
      expect(commitsPerHost.reduce((a, b) => a + b, 0)).toBe(HOSTS * RUNS_PER_HOST);
      expect(commitsPerHost.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    } else expect(commitsPerHost).toEqual(Array(HOSTS).fill(RUNS_PER_HOST));
    expect(throttled.length).toBeLessThanOrEqual(Math.floor(answered.length * MAX_THROTTLED_SHARE));
    expect(minimumMs).toBeGreaterThanOrEqual(5 * window);
    expect(ratio).toBeLessThanOrEqual(MAX_RATIO);
  });
});
