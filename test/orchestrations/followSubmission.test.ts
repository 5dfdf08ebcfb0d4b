import { POLLS_PER_EXECUTION } from '../../lib/polling';
import { itOnFastClock } from '../helpers/engine';
import { PATIENCE_MS } from '../helpers/eventually';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { goodZip, packageFor } from '../helpers/zips';
import { RAW, dropRun, instance, msBetween, rawHistory, seedWithApps, type InstanceStatus } from './durable';

const LONG_APP = '9NBLGGH4LONG';
const STUCK_APP = '9NBLGGH4STCK';
const FIRST_INTERVAL_S = 1;
const MAX_INTERVAL_S = 6;
/** ExecutionStarted, then a poll and a timer per round, then the ending: what one execution may hold. */
const MAX_EVENTS_PER_EXECUTION = 2 * POLLS_PER_EXECUTION + 4;

function appZip(applicationId: string, options: Record<string, unknown> = {}): Buffer {
  return goodZip(
    {
      target: { kind: 'app', applicationId },
      submission: { applicationPackages: [{ fileName: 'packages/App_2.0.0.0_x64.msix' }] },
      options,
    },
    { 'packages/App_2.0.0.0_x64.msix': packageFor('packages/App_2.0.0.0_x64.msix') },
  );
}

interface FollowerInput {
  polls: number;
  intervalSeconds: number;
  deadline: string;
}

describe('followSubmission on the sandbox host', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({
      emulator: { seed: seedWithApps(LONG_APP, STUCK_APP) },
      // Twenty virtual seconds a real second, polls at most 6 s apart: the first execution's 20
      // polls take about 5 s of real time, its last dozen (when the test reads its timers, since
      // continuing as new drops them) about 4 s, a window a busy machine's sampling cannot miss.
      host: { clockSpeed: 20 },
      settings: {
        COMMIT_DEADLINE_MINUTES: '1',
        // The client's own pacing (20 calls a real minute) would hold a fast-clock run of many polls.
        STORE_MAX_REQUESTS_PER_MINUTE: '10000',
        POLL_FIRST_INTERVAL_SECONDS: String(FIRST_INTERVAL_S),
        POLL_MAX_INTERVAL_SECONDS: String(MAX_INTERVAL_S),
      },
    });
  });
  afterAll(() => sandbox?.stop());

  // Fast clock: dozens of polls up to 6 s apart, and the intervals read off the engine's own clock.
  itOnFastClock(
    'continues as new through a long certification, each execution small, polling less and less often',
    async () => {
      const stuck = await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'Certification', productId: LONG_APP });
      const runId = await dropRun(sandbox, 'follow/long.zip', appZip(LONG_APP, { waitFor: 'published' }));
      const followerId = `${runId}-follow`;

      const samples: Array<{ executionPolls: number; events: number; polls: number }> = [];
      let firstExecutionTimers: Array<{ Timestamp: string; FireAt?: string }> = [];
      let second: InstanceStatus | undefined;
      const deadline = Date.now() + PATIENCE_MS;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`the follower did not get past ${POLLS_PER_EXECUTION + 5} polls`);
        const st = await instance(sandbox, followerId);
        if (st?.historyEvents) {
          const input = st.input as FollowerInput;
          const polls = (st.customStatus as { polls?: number } | null)?.polls ?? 0;
          samples.push({ executionPolls: input.polls, events: st.historyEvents.length, polls });
          if (input.polls === 0 && polls >= 8) {
            // The status API folds TimerCreated away; the host's stored history has it, with its
            // creation time. Read again on every sample of the first execution, keeping the longest.
            // (The follower may have continued as new since the status said otherwise.)
            const raw = await rawHistory(sandbox, followerId);
            const started = raw.find((e) => e.EventType === RAW.ExecutionStarted) as { Input?: string } | undefined;
            const rawInput = started?.Input ? (JSON.parse(started.Input) as FollowerInput) : undefined;
            const timers = raw.filter((e) => e.EventType === RAW.TimerCreated);
            if (rawInput?.polls === 0 && timers.length > firstExecutionTimers.length) firstExecutionTimers = timers;
          }
          // Right after continuing as new the history is empty until its first episode has run.
          if (input.polls > 0 && st.historyEvents.length > 0) second ??= st;
          if (polls >= POLLS_PER_EXECUTION + 5) break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await sandbox.emulator.admin.removeFault(stuck.id);
      const doc = await sandbox.finished(runId);
      expect(doc).toMatchObject({ status: 'Succeeded', storeStatus: 'Published' });
      expect(doc.polls).toBeGreaterThan(POLLS_PER_EXECUTION);

      // A second execution started with the first one's count, and no execution grew past its bound.
      expect(second).toBeDefined();
      expect((second!.input as FollowerInput).polls).toBe(POLLS_PER_EXECUTION);
      expect(second!.historyEvents![0]).toMatchObject({
        EventType: 'ExecutionStarted',
        FunctionName: 'followSubmission',
      });
      expect(Math.max(...samples.map((s) => s.events))).toBeLessThanOrEqual(MAX_EVENTS_PER_EXECUTION);
      expect(
        sandbox.logs.filter((l) => l.message.startsWith(`${followerId}: continued as new`)).length,
      ).toBeGreaterThanOrEqual(1);
      const final = (await instance(sandbox, followerId))!;
      expect(final.runtimeStatus).toBe('Completed');
      expect(final.historyEvents!.length).toBeLessThanOrEqual(MAX_EVENTS_PER_EXECUTION);
      expect((final.output as { polls: number }).polls).toBe(doc.polls);

      // Poll intervals start at the first interval and grow to the maximum, never past it.
      const intervals = firstExecutionTimers.map((t) => msBetween(t.Timestamp, t.FireAt!) / 1000);
      expect(intervals.length).toBeGreaterThanOrEqual(7);
      expect(intervals[0]).toBe(FIRST_INTERVAL_S);
      for (let i = 1; i < intervals.length; i++) {
        expect(intervals[i]).toBeLessThanOrEqual(MAX_INTERVAL_S);
        if (intervals[i - 1]! < MAX_INTERVAL_S) expect(intervals[i]).toBeGreaterThan(intervals[i - 1]!);
        else expect(intervals[i]).toBe(MAX_INTERVAL_S);
      }
      expect(intervals.at(-1)).toBe(MAX_INTERVAL_S);
      // The next execution carries the interval on rather than starting short again.
      expect((second!.input as FollowerInput).intervalSeconds).toBe(MAX_INTERVAL_S);

      // The parent sees one sub-orchestration, however many executions it took.
      const parent = (await instance(sandbox, runId))!;
      expect(parent.historyEvents!.filter((e) => e.FunctionName === 'followSubmission')).toHaveLength(1);
    },
  );

  // Fast clock: the deadline is a minute of durable time.
  itOnFastClock(
    'fails with DeadlineExceeded when the commit stays CommitStarted past COMMIT_DEADLINE_MINUTES',
    async () => {
      const stuck = await sandbox.emulator.admin.fault({
        kind: 'stuck',
        status: 'CommitStarted',
        productId: STUCK_APP,
      });
      try {
        const runId = await dropRun(sandbox, 'follow/stuck.zip', appZip(STUCK_APP));
        const doc = await sandbox.finished(runId);
        expect(doc).toMatchObject({
          status: 'Failed',
          storeStatus: 'CommitStarted',
          failure: { step: 'waitForStore', facts: { code: 'DeadlineExceeded', retriable: false } },
        });
        expect(doc.failure!.message).toMatch(/status stayed CommitStarted until the run's deadline/);
        expect(doc.failure!.advice).toMatch(/COMMIT_DEADLINE_MINUTES/);

        // The deadline is the setting's minute after the commit; the follower polled on until it
        // and gave up only once it had passed, and no wait went past it.
        const follower = (await instance(sandbox, `${runId}-follow`))!;
        const input = follower.input as FollowerInput;
        const committedAt = doc.timeline.find((s) => s.step === 'commitSubmission')!.endedAt!;
        expect(msBetween(committedAt, input.deadline)).toBe(60_000);
        const fired = follower.historyEvents!.filter((e) => e.EventType === 'TimerFired');
        for (const t of fired) expect(msBetween(t.FireAt!, input.deadline)).toBeGreaterThanOrEqual(0);
        const ended = follower.historyEvents!.find((e) => e.EventType === 'ExecutionCompleted')!;
        expect(msBetween(input.deadline, ended.Timestamp)).toBeGreaterThanOrEqual(0);
        const polls = follower.historyEvents!.filter((e) => e.FunctionName === 'getSubmissionStatus');
        expect(polls.length).toBe(fired.length + 1);
        expect((follower.output as { timedOut: boolean }).timedOut).toBe(true);
        // The Store holds the submission as committed: it is not the run's to delete.
        expect(doc.timeline.map((s) => s.step)).not.toContain('discardSubmission');
      } finally {
        await sandbox.emulator.admin.removeFault(stuck.id);
      }
    },
  );
});
