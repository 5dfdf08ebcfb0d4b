/**
 * Benchmark 3, long waits: the product's followSubmission (continue-as-new every
 * POLLS_PER_EXECUTION polls) side by side with the naive loop of timers in one execution, on the
 * sandbox host with a fast clock, for waits of an hour, a day and a week on the real poll
 * schedule (the app's default first and maximum intervals).
 *
 * The number of polls a wait takes is fixed by the schedule, not by how fast this machine is:
 * the submission really goes through the emulator to Published, and the emulator answers the
 * first N−1 status polls with "Certification" (an HTTP fault with a count), N being the polls the
 * schedule makes in that time. With a fast clock, time spent processing stretches virtual time,
 * which would otherwise change N.
 *
 * Replay work is counted by the fixture app's preInvocation hook: per episode, the history events
 * handed over that were already played (see bench/fixtures/waitsApp.ts).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../lib/config';
import { nextPollInterval, POLLS_PER_EXECUTION, type PollSchedule } from '../lib/polling';
import type { FollowOrchestrationInput } from '../orchestrations/followSubmission';
import { startAzurite, type Azurite } from '../sandbox/azurite';
import { startEmulator, type RunningEmulator } from '../sandbox/emulator';
import { startHost, type RunningHost } from '../sandbox/host';
import { repoRoot, sandboxSettings } from '../sandbox/stack';
import { NAIVE_ORCHESTRATOR, REPLAY_MARK, type ReplayRecord } from './fixtures/replayRecord';
import { whileRunning } from './cleanup';
import { cpuSecondsOf } from './proc';
import { builtFile, HostLog, INSTANT_STORE, isolatedSettings, sleep } from './sandboxKit';
import { BenchStoreApi } from './storeApi';
import { type BenchOutput, type Goal, type Log, round, table } from './table';
import { BENCH_APP_ID } from './zips';

export interface WaitsBenchOptions {
  /** A running Azurite to share; one is started otherwise. */
  azurite?: Pick<Azurite, 'connectionString' | 'ingestConnectionString'>;
  /** Waits in seconds of virtual time. */
  durations: number[];
  /** Host clock speed (virtual seconds per real second). */
  clockSpeed?: number;
  smoke?: boolean;
  log?: Log;
}

/** "1h", "1d", "7d", "90m", "3600" (seconds) → seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(text);
  if (!m) throw new Error(`not a duration: "${text}" (use e.g. 1h, 1d, 7d)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]!.toLowerCase() as '' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

export function durationLabel(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} day${seconds === 86400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The app's default poll schedule, read through its own config loader. */
export function defaultSchedule(): PollSchedule {
  const c = loadConfig({
    TASK_HUB_NAME: 'x00',
    PURGE_SCHEDULE: '0 0 0 * * *',
    SUBMISSIONS_STORAGE: 'x',
    SUBMISSIONS_CONTAINER: 'x',
    STORE_TENANT_ID: 'x',
    STORE_CLIENT_ID: 'x',
    STORE_CLIENT_SECRET: 'x',
  });
  return { firstIntervalSeconds: c.polling.firstIntervalSeconds, maxIntervalSeconds: c.polling.maxIntervalSeconds };
}

/**
 * Polls the follower makes when certification ends `seconds` after its first poll: one at the
 * start, one after each interval the schedule gives while the status says Certification, and the
 * first poll at or after the end sees the result.
 */
export function pollsFor(seconds: number, schedule: PollSchedule): number {
  let t = 0;
  let interval = 0;
  let polls = 0;
  for (;;) {
    polls++;
    if (t >= seconds) return polls;
    interval = nextPollInterval(interval, 'Certification', schedule);
    t += interval;
  }
}

interface VariantResult {
  polls: number;
  status: string;
  executions: number;
  episodes: number;
  eventsAtEnd: number;
  largestHistory: number;
  replayed: number;
  hostCpu?: number;
  wallSeconds: number;
}

function appDirFor(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-waits-app-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-waits-app', private: true, main: 'app.js' }));
  cpSync(join(repoRoot(), 'host.json'), join(dir, 'host.json'));
  writeFileSync(join(dir, 'app.js'), `require(${JSON.stringify(builtFile('fixtures/waitsApp.js'))});\n`);
  return dir;
}

export async function benchWaits(o: WaitsBenchOptions): Promise<BenchOutput> {
  const log = o.log ?? (() => undefined);
  const clockSpeed = o.clockSpeed ?? 20_000;
  const schedule = defaultSchedule();
  let ownAzurite: Azurite | undefined;
  let emulator: RunningEmulator | undefined;
  let host: RunningHost | undefined;
  const appDir = appDirFor();
  const hostLog = new HostLog();
  const t = table('waits', 'Long waits: following a submission through certification (fast clock)', [
    'wait',
    'variant',
    'polls',
    'executions',
    'episodes',
    'history events at end',
    'largest history replayed',
    'events replayed (total)',
    'replayed per poll',
    'host CPU s',
    'wall s',
  ]);
  const results = new Map<string, VariantResult>();
  const forget = whileRunning(async () => {
    await host?.stop();
    await emulator?.stop();
    await ownAzurite?.stop();
  });
  try {
    const azurite = o.azurite ?? (ownAzurite = await startAzurite());
    emulator = await startEmulator({ ingestConnectionString: azurite.ingestConnectionString, config: INSTANT_STORE });
    const settings = sandboxSettings(azurite, emulator, {
      // Its own containers and host id; and the app's Store call pacer off: it counts calls per real
      // minute, and the fast clock packs a week of polls (one per 15 minutes) into seconds.
      ...isolatedSettings('benchwaits'),
      POLL_FIRST_INTERVAL_SECONDS: String(schedule.firstIntervalSeconds),
      POLL_MAX_INTERVAL_SECONDS: String(schedule.maxIntervalSeconds),
    });
    host = await startHost({
      appDir,
      settings,
      clockSpeed,
      taskHub: `benchwaits${Date.now().toString(36)}`,
      blobPollIntervalMs: 3_600_000,
      onLog: hostLog.onLog,
    });
    const api = await BenchStoreApi.connect(emulator);
    const base = `${host.url}/runtime/webhooks/durabletask`;

    const runOne = async (seconds: number, orchestrator: string): Promise<VariantResult> => {
      const polls = pollsFor(seconds, schedule);
      const sub = await api.newSubmission(BENCH_APP_ID);
      await api.commit(BENCH_APP_ID, sub.id);
      // Through the emulator's whole lifecycle (zero delays) to Published.
      for (let i = 0; (await api.status(BENCH_APP_ID, sub.id)) !== 'Published'; i++) {
        if (i > 200) throw new Error('the emulator did not publish the benchmark submission');
        await sleep(10);
      }
      if (polls > 1) {
        await emulator!.admin.fault({
          match: { method: 'GET', path: `applications/${BENCH_APP_ID}/submissions/${sub.id}/status`, server: 'api' },
          status: 200,
          body: { status: 'Certification', statusDetails: { errors: [], warnings: [], certificationReports: [] } },
          times: polls - 1,
        });
      }
      const instanceId = `bench-${orchestrator}-${seconds}-${Date.now().toString(36)}`;
      const input: FollowOrchestrationInput = {
        runId: instanceId,
        product: { kind: 'app', applicationId: BENCH_APP_ID },
        submissionId: sub.id,
        waitFor: 'published',
        // Far away: a fast clock stretches virtual time with every millisecond of processing.
        deadline: new Date(Date.now() + 10 * 365 * 86400_000).toISOString(),
        polls: 0,
        intervalSeconds: 0,
        targetPublishMode: 'Immediate',
        firstIntervalSeconds: schedule.firstIntervalSeconds,
        maxIntervalSeconds: schedule.maxIntervalSeconds,
      };
      const cpu0 = cpuSecondsOf(host!.pid);
      const t0 = performance.now();
      const res = await host!.fetch(`${base}/orchestrators/${orchestrator}/${instanceId}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(input),
      });
      if (res.status !== 202) throw new Error(`starting ${orchestrator}: ${res.status} ${await res.text()}`);
      const end = await hostLog.waitForEnd(instanceId, 30 * 60_000);
      const wallSeconds = (performance.now() - t0) / 1000;
      const cpu1 = cpuSecondsOf(host!.pid);
      if (!end.ok) throw new Error(`${orchestrator} did not complete: ${end.line.message}`);
      const status = (await (await host!.fetch(`${base}/instances/${instanceId}?showHistory=true`)).json()) as {
        output: { polls: number; status: string };
        historyEvents?: unknown[];
      };
      await emulator!.admin.clearFaults();
      const records: ReplayRecord[] = hostLog.lines
        .filter((l) => l.message.startsWith(REPLAY_MARK))
        .map((l) => JSON.parse(l.message.slice(REPLAY_MARK.length)) as ReplayRecord)
        .filter((r) => r.instanceId === instanceId);
      hostLog.clear();
      const last = records.at(-1);
      return {
        polls: status.output.polls,
        status: status.output.status,
        executions: new Set(records.map((r) => r.executionId)).size,
        episodes: records.length,
        eventsAtEnd: last?.events ?? 0,
        largestHistory: Math.max(0, ...records.map((r) => r.events)),
        replayed: records.reduce((a, r) => a + r.replayed, 0),
        hostCpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
        wallSeconds,
      };
    };

    // Warm the worker (modules, the Store token) so the first measured run is not a cold start.
    await runOne(0, 'followSubmission');
    await runOne(0, NAIVE_ORCHESTRATOR);
    for (const seconds of o.durations) {
      const expected = pollsFor(seconds, schedule);
      for (const [variant, orchestrator] of [
        [`ours: followSubmission, continue-as-new every ${POLLS_PER_EXECUTION} polls`, 'followSubmission'],
        ['naive: one execution, a timer per poll', NAIVE_ORCHESTRATOR],
      ] as const) {
        const r = await runOne(seconds, orchestrator);
        if (r.polls !== expected || r.status !== 'Published') {
          throw new Error(`${orchestrator} made ${r.polls} polls (expected ${expected}) and ended ${r.status}`);
        }
        results.set(`${seconds}:${orchestrator}`, r);
        t.rows.push([
          durationLabel(seconds),
          variant,
          r.polls,
          r.executions,
          r.episodes,
          r.eventsAtEnd,
          r.largestHistory,
          r.replayed,
          round(r.replayed / r.polls, 1),
          r.hostCpu === undefined ? null : round(r.hostCpu, 2),
          round(r.wallSeconds, 1),
        ]);
        log(
          `[waits] ${durationLabel(seconds)} ${orchestrator}: ${r.polls} polls, ${r.replayed} events replayed, history at end ${r.eventsAtEnd}`,
        );
      }
      const ours = results.get(`${seconds}:followSubmission`)!;
      const naive = results.get(`${seconds}:${NAIVE_ORCHESTRATOR}`)!;
      t.rows.push([
        durationLabel(seconds),
        'naive ÷ ours',
        null,
        null,
        null,
        round(naive.eventsAtEnd / ours.eventsAtEnd, 1),
        round(naive.largestHistory / ours.largestHistory, 1),
        round(naive.replayed / ours.replayed, 1),
        round(naive.replayed / naive.polls / (ours.replayed / ours.polls), 1),
        ours.hostCpu && naive.hostCpu ? round(naive.hostCpu / ours.hostCpu, 1) : null,
        round(naive.wallSeconds / ours.wallSeconds, 1),
      ]);
    }
  } finally {
    await host?.stop();
    await emulator?.stop();
    await ownAzurite?.stop();
    forget();
    rmSync(appDir, { recursive: true, force: true });
  }
  t.notes.push(
    `Poll schedule: the app's defaults, first interval ${schedule.firstIntervalSeconds} s growing ×1.5 to ${schedule.maxIntervalSeconds} s; polls = what that schedule makes while certification lasts the given time (the emulator answers the first polls−1 with Certification, then the submission is Published). Host clock ×${clockSpeed}.`,
    'Episodes = orchestrator invocations; each replays the whole history of its execution so far. "events replayed" = history events already played that were handed to an episode, summed over all episodes and executions (counted by a preInvocation hook in the fixture app). "history events at end" = events handed to the last episode; "largest history replayed" = the most any one episode got.',
    'Host CPU s = the sandbox host process (the Functions host and its worker in one process: replay, history persistence to Azurite on every episode, the poll activity).',
  );

  const goals: Goal[] = [];
  // Linear replay work means a constant cost per poll once the wait spans several executions
  // (shorter waits fit in one execution and cost less per poll).
  const spanning = [...o.durations]
    .sort((a, b) => a - b)
    .filter((d) => (results.get(`${d}:followSubmission`)?.executions ?? 0) >= 2);
  if (spanning.length >= 2) {
    const first = results.get(`${spanning[0]}:followSubmission`)!;
    const longest = results.get(`${spanning.at(-1)}:followSubmission`)!;
    const naiveFirst = results.get(`${spanning[0]}:${NAIVE_ORCHESTRATOR}`)!;
    const naiveLongest = results.get(`${spanning.at(-1)}:${NAIVE_ORCHESTRATOR}`)!;
    const perPoll = (r: VariantResult): number => r.replayed / r.polls;
    const flat = perPoll(longest) <= perPoll(first) * 1.25 && longest.largestHistory <= first.largestHistory * 1.05;
    goals.push({
      benchmark: 'waits',
      goal: 'total replay work grows linearly with the number of polls, not quadratically (bounded history per execution)',
      measured: `ours: ${perPoll(first).toFixed(0)} events replayed per poll at ${first.polls} polls, ${perPoll(longest).toFixed(0)} at ${longest.polls}; largest history ${first.largestHistory} → ${longest.largestHistory}. Naive: ${perPoll(naiveFirst).toFixed(0)} → ${perPoll(naiveLongest).toFixed(0)} per poll, history ${naiveFirst.largestHistory} → ${naiveLongest.largestHistory}`,
      met: o.smoke ? null : flat,
    });
  }
  return { tables: [t], goals };
}
