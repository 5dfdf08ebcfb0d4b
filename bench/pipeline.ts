/**
 * Benchmark 4, pipeline overhead: from a zip landing in the submissions container to the Store
 * saying CommitStarted, on the sandbox with every emulator delay at zero. The time is split by
 * the host's own log lines (millisecond timestamps on this machine's clock):
 *
 *   trigger detection  landing → the blob trigger function starts (the host scans every blobPollIntervalMs)
 *   durable timers     time the run sat in durable timers before the commit (the product queue's
 *                      settle time), from the orchestration's history
 *   activities         Σ activity durations (Executing → Executed) of the run, up to the commit
 *     Store API calls    of which: the Store calls the activities log (method, path, status, ms)
 *   orchestration      the rest: the trigger function itself, starting the orchestration, every
 *                      orchestrator episode, scheduling and persisting between the steps
 *
 * CommitStarted is the moment the emulator recorded the status (its statusHistory).
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { Writable } from 'node:stream';
import { instanceIdFor } from '../lib/instanceId';
import { writeZip } from '../lib/zip/writer';
import type { Azurite } from '../sandbox/azurite';
import { type HostLogLine } from '../sandbox/host';
import type { Sandbox } from '../sandbox/stack';
import { whileRunning } from './cleanup';
import { type BenchOutput, type Goal, KiB, type Log, median, round, table } from './table';
import { benchIdentity, benchSeed, HostLog, startBenchSandbox } from './sandboxKit';
import { BENCH_PACKAGE, benchManifest, benchPackageEntry } from './zips';

export interface PipelineBenchOptions {
  azurite?: Pick<Azurite, 'connectionString' | 'ingestConnectionString'>;
  /** Warm runs measured (one cold run comes first and is shown apart). */
  runs: number;
  /** The host's blob scan period (the sandbox default is 1000 ms). */
  blobPollIntervalMs?: number;
  /** Host clock speed: smoke tests shorten the product queue's 10 s settle timer with it. Default 1. */
  clockSpeed?: number;
  smoke?: boolean;
  log?: Log;
}

/**
 * A small valid submission zip in memory: the manifest and one real package of the bench app
 * `Contoso.Bench<n>` (see benchSeed) at `version`, which must go up from run to run of one app.
 */
export async function smallZip(applicationId: string, version = '2.0.0.0', packageBytes = 64 * KiB): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      chunks.push(chunk);
      done();
    },
  });
  await writeZip(
    [
      await benchPackageEntry(BENCH_PACKAGE, packageBytes, version, benchIdentity(applicationId)),
      { name: 'submission.json', data: benchManifest(applicationId), compress: true },
    ],
    sink,
  );
  return Buffer.concat(chunks);
}

export interface RunTiming {
  totalMs: number;
  detectionMs: number;
  timersMs: number;
  orchestrationMs: number;
  activitiesMs: number;
  storeApiMs: number;
  storeCalls: number;
}

const at = (l: HostLogLine): number => Date.parse(l.time);

interface DisplayedEvent {
  EventType: string;
  Timestamp: string;
  FunctionName?: string;
}

/**
 * Real time spent waiting in the durable timers that fired before the commit activity completed:
 * from the event before each TimerFired (the completion whose episode created the timer) to the
 * firing. History times are the host's virtual clock, hence `clockSpeed`.
 */
export function timerWaitMs(history: DisplayedEvent[], clockSpeed = 1): number {
  let total = 0;
  for (let i = 1; i < history.length; i++) {
    const e = history[i]!;
    if (e.FunctionName === 'commitSubmission') break;
    if (e.EventType === 'TimerFired') total += Date.parse(e.Timestamp) - Date.parse(history[i - 1]!.Timestamp);
  }
  return total / clockSpeed;
}

/** Splits one run's landing → CommitStarted time using the host's log lines and the run's history. */
export function splitRun(
  lines: HostLogLine[],
  history: DisplayedEvent[],
  blobPath: string,
  instanceId: string,
  landedAt: number,
  commitAt: number,
  clockSpeed = 1,
): RunTiming {
  const trigger = lines.find(
    (l) => l.message.startsWith(`Executing 'Functions.submissionBlobTrigger'`) && l.message.includes(`: ${blobPath}'`),
  );
  if (!trigger) throw new Error(`no blob trigger line for ${blobPath}`);
  const activityIds = new Set<string>();
  for (const l of lines) {
    const m = /^Executing 'Functions\.(\w+)' \(Reason='TaskScheduled \d+ of instance ([^']+)', Id=([\w-]+)\)/.exec(
      l.message,
    );
    if (m && m[2] === instanceId) activityIds.add(m[3]!);
  }
  // Each activity and Store call counts up to CommitStarted only: the commit's own activity and
  // call end after the emulator stamped it (by however long the answer takes to travel back, which
  // grows on a busy machine), and that tail is not part of landing → CommitStarted.
  const untilCommit = (endedAt: number, durationMs: number): number =>
    Math.max(0, Math.min(endedAt, commitAt) - (endedAt - durationMs));
  let activitiesMs = 0;
  for (const l of lines) {
    const m = /^Executed 'Functions\.\w+' \(\w+, Id=([\w-]+), Duration=(\d+)ms\)/.exec(l.message);
    // Activities that started before the commit: everything up to and including commitSubmission.
    if (m && activityIds.has(m[1]!) && at(l) - Number(m[2]) <= commitAt)
      activitiesMs += untilCommit(at(l), Number(m[2]));
  }
  let storeApiMs = 0;
  let storeCalls = 0;
  for (const l of lines) {
    const m = / -> \S+ in (\d+) ms \(attempt/.exec(l.message);
    if (m && l.message.includes(`[${instanceId}]`) && at(l) - Number(m[1]) <= commitAt) {
      storeApiMs += untilCommit(at(l), Number(m[1]));
      storeCalls++;
    }
  }
  const totalMs = commitAt - landedAt;
  const detectionMs = at(trigger) - landedAt;
  const timersMs = timerWaitMs(history, clockSpeed);
  return {
    totalMs,
    detectionMs,
    timersMs,
    activitiesMs,
    storeApiMs,
    storeCalls,
    orchestrationMs: totalMs - detectionMs - timersMs - activitiesMs,
  };
}

export async function benchPipeline(o: PipelineBenchOptions): Promise<BenchOutput> {
  const log = o.log ?? (() => undefined);
  const blobPollIntervalMs = o.blobPollIntervalMs ?? 1000;
  const hostLog = new HostLog();
  let sandbox: Sandbox | undefined;
  const { seed, appIds } = benchSeed(1);
  const appId = appIds[0]!;
  const forget = whileRunning(async () => sandbox?.stop());
  const timings: RunTiming[] = [];
  try {
    sandbox = await startBenchSandbox({
      name: 'benchpipe',
      seed,
      hostLog,
      azurite: o.azurite,
      blobPollIntervalMs,
      clockSpeed: o.clockSpeed,
    });
    const service = BlobServiceClient.fromConnectionString(sandbox.azurite.connectionString);
    const container = service.getContainerClient(sandbox.settings.SUBMISSIONS_CONTAINER!);
    for (let i = 0; i <= o.runs; i++) {
      const zip = await smallZip(appId, `2.0.${i}.0`);
      const name = `bench/pipeline-${Date.now().toString(36)}-${i}.zip`;
      const uploaded = await container.getBlockBlobClient(name).uploadData(zip);
      const landedAt = Date.now();
      const instanceId = instanceIdFor(container.containerName, name, uploaded.etag!);
      const end = await hostLog.waitForEnd(instanceId, 120_000);
      if (!end.ok) throw new Error(`pipeline run ${i} failed: ${end.line.message}`);
      const state = await sandbox.emulator.admin.state();
      const commitAt = commitStartedAt(state.submissions, landedAt);
      const history = (
        (await (
          await sandbox.host.fetch(`/runtime/webhooks/durabletask/instances/${instanceId}?showHistory=true`)
        ).json()) as { historyEvents?: DisplayedEvent[] }
      ).historyEvents;
      const timing = splitRun(
        hostLog.lines,
        history ?? [],
        `${container.containerName}/${name}`,
        instanceId,
        landedAt,
        commitAt,
        o.clockSpeed ?? 1,
      );
      timings.push(timing);
      log(
        `[pipeline] run ${i}${i === 0 ? ' (cold)' : ''}: ${timing.totalMs} ms (detection ${timing.detectionMs}, orchestration ${timing.orchestrationMs}, activities ${timing.activitiesMs}, Store API ${timing.storeApiMs})`,
      );
      hostLog.clear();
    }
  } finally {
    await sandbox?.stop();
    forget();
  }

  const t = table('pipeline', 'Pipeline overhead: zip landing → CommitStarted (emulator delays 0)', [
    'runs',
    'landing → CommitStarted ms',
    'trigger detection ms',
    'durable timers ms',
    'orchestration ms',
    'activities ms',
    'of which Store API ms',
    'Store API calls',
    'orchestration ÷ Store API',
    '(orchestration + timers) ÷ Store API',
  ]);
  const row = (label: string, r: RunTiming): void => {
    t.rows.push([
      label,
      round(r.totalMs, 0),
      round(r.detectionMs, 0),
      round(r.timersMs, 0),
      round(r.orchestrationMs, 0),
      round(r.activitiesMs, 0),
      round(r.storeApiMs, 0),
      r.storeCalls,
      r.storeApiMs > 0 ? round(r.orchestrationMs / r.storeApiMs, 1) : null,
      r.storeApiMs > 0 ? round((r.orchestrationMs + r.timersMs) / r.storeApiMs, 1) : null,
    ]);
  };
  const warm = timings.slice(1);
  row('first run (cold worker)', timings[0]!);
  const med = (f: (r: RunTiming) => number): number => median(warm.map(f));
  const medianRun: RunTiming = {
    totalMs: med((r) => r.totalMs),
    detectionMs: med((r) => r.detectionMs),
    timersMs: med((r) => r.timersMs),
    orchestrationMs: med((r) => r.orchestrationMs),
    activitiesMs: med((r) => r.activitiesMs),
    storeApiMs: med((r) => r.storeApiMs),
    storeCalls: med((r) => r.storeCalls),
  };
  row(`median of ${warm.length} warm runs`, medianRun);
  const byTotal = [...warm].sort((a, b) => a.totalMs - b.totalMs);
  if (byTotal.length > 1) {
    row('fastest warm run', byTotal[0]!);
    row('slowest warm run', byTotal.at(-1)!);
  }
  t.notes.push(
    `Sandbox: Azurite, the Store emulator with every delay at 0 and its rate limit off, the local Functions host scanning the container every ${blobPollIntervalMs} ms (trigger detection is that scan: on average half the period). Runs one after another; the zip is ${'~65 KiB'} (manifest + one package).`,
    "Durable timers = time in timers that fired before the commit, from the run's history: the product queue's settle time (the QUEUE_SETTLE_SECONDS setting, 10 s by default, by design: zips uploaded a moment apart for one product join its queue in upload order). Orchestration = landing → CommitStarted minus detection, timers and activity time: the trigger function (reads the blob properties, starts the run), every orchestrator episode, and the host scheduling and persisting state between steps.",
    "Activities = Σ activity durations of the run up to the commit (zip validation by range reads, the product queue, token, Store calls, the upload to fileUploadUrl); Store API = the Store calls the activities log. Ratios are of the medians. The app's Store call pacer is set to 10000/min: runs follow one another faster than the Store's 20 calls a minute allow.",
  );
  const goals: Goal[] = [];
  goals.push({
    benchmark: 'pipeline',
    goal: 'overhead (orchestration) as a ratio of the time in Store calls — reported',
    measured: `orchestration ${round(medianRun.orchestrationMs, 0)} ms vs Store API ${round(medianRun.storeApiMs, 0)} ms (×${round(medianRun.orchestrationMs / Math.max(1, medianRun.storeApiMs), 1)}); durable timers ${round(medianRun.timersMs, 0)} ms; activities ${round(medianRun.activitiesMs, 0)} ms; trigger detection ${round(medianRun.detectionMs, 0)} ms`,
    met: null,
  });
  return { tables: [t], goals };
}

function commitStartedAt(
  submissions: Array<{ statusHistory: Array<{ status: string; at: string }> }>,
  after: number,
): number {
  let found: number | undefined;
  for (const s of submissions) {
    for (const h of s.statusHistory) {
      const time = Date.parse(h.at);
      if (h.status === 'CommitStarted' && time >= after && (found === undefined || time < found)) found = time;
    }
  }
  if (found === undefined) throw new Error('the emulator recorded no CommitStarted for the run');
  return found;
}
