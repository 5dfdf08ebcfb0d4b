/**
 * Benchmark 7, worker memory of a whole run: a submission zip of each size dropped into the
 * sandbox (the host playing Flex Consumption, Event Grid delivering the blob trigger), run to
 * Succeeded (the emulator reads the uploaded zip at commit and publishes), and the peak resident
 * memory of the Functions host's process (VmHWM of `RunningHost.pid`), against its resident memory
 * after start, before the drop. Each size runs on a fresh sandbox, so each peak is that run's own
 * (VmHWM never goes down). The emulator (in this process) and Azurite (its own process) are not
 * the worker and are not counted. No zip is ever held in memory: each is written to a local file
 * with the product's streaming zip writer and streamed from it to the submissions container.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { instanceIdFor } from '../lib/instanceId';
import { ZIP_METADATA } from '../lib/storage';
import type { Azurite } from '../sandbox/azurite';
import type { Sandbox } from '../sandbox/stack';
import { whileRunning } from './cleanup';
import { memoryOf } from './proc';
import { benchSeed, HostLog, sleep, startBenchSandbox } from './sandboxKit';
import { type BenchOutput, type Goal, type Log, MiB, round, sizeLabel, table } from './table';
import { putFile, writeBenchZip } from './zips';

/** Flex Consumption instance memory sizes (MB, taken as MiB here). */
export const FLEX_INSTANCE_MB = [512, 2048, 4096] as const;

export interface MemoryBenchOptions {
  azurite?: Pick<Azurite, 'connectionString' | 'ingestConnectionString'>;
  /** Zip sizes, each run on a fresh sandbox; the smallest is the reference of the ratio column. */
  sizes: number[];
  workDir: string;
  blobPollIntervalMs?: number;
  clockSpeed?: number;
  smoke?: boolean;
  log?: Log;
}

export interface MemoryRun {
  bytes: number;
  baselineRss: number;
  baselinePeak: number;
  peak: number;
  seconds: number;
  uploadedBytes: number | null;
  zipCheck: string | null;
  status: string;
  /** The run's outcome, as it stamped it on the zip's metadata. */
  outcome: string;
}

async function oneRun(o: MemoryBenchOptions, size: number, index: number): Promise<MemoryRun> {
  const log = o.log ?? (() => undefined);
  const hostLog = new HostLog();
  const { seed } = benchSeed(0);
  let sandbox: Sandbox | undefined;
  const forget = whileRunning(async () => sandbox?.stop());
  const path = join(o.workDir, `memory-${index}-${size}.zip`);
  try {
    // The zip first (on disk only), so that writing it does not overlap the measured run.
    const zip = await writeBenchZip(path, { kind: 'single', size });
    sandbox = await startBenchSandbox({
      name: 'benchmem',
      seed,
      hostLog,
      azurite: o.azurite,
      blobPollIntervalMs: o.blobPollIntervalMs ?? 1000,
      clockSpeed: o.clockSpeed,
      plan: 'flex',
    });
    const pid = sandbox.host.pid;
    // Let the host settle after start (its first scans, timers) before taking the baseline.
    await sleep(o.smoke ? 300 : 3000);
    const base = memoryOf(pid);
    const name = `bench/memory-${Date.now().toString(36)}-${index}.zip`;
    const started = Date.now();
    const etag = await putFile(sandbox.submissions, name, path);
    const instanceId = instanceIdFor(sandbox.submissions.containerName, name, etag);
    log(`[memory] ${sizeLabel(size)} dropped (${zip.bytes} bytes), waiting for run ${instanceId}`);
    const end = await hostLog.waitForEnd(instanceId, 30 * 60_000);
    const seconds = (Date.now() - started) / 1000;
    const after = memoryOf(pid);
    if (!end.ok) throw new Error(`memory run at ${sizeLabel(size)} failed: ${end.line.message}`);
    const metadata = (await sandbox.submissions.getBlobClient(name).getProperties()).metadata ?? {};
    const state = await sandbox.emulator.admin.state();
    const sub = state.submissions.find((s) => s.upload !== null && Date.parse(s.statusHistory[0]?.at ?? '') >= started);
    const run: MemoryRun = {
      bytes: zip.bytes,
      baselineRss: base?.rss ?? NaN,
      baselinePeak: base?.peak ?? NaN,
      peak: after?.peak ?? NaN,
      seconds,
      uploadedBytes: sub?.upload?.size ?? null,
      zipCheck: sub?.lastZipCheck?.result ?? null,
      status: sub?.status ?? 'no submission',
      outcome: metadata[ZIP_METADATA.outcome] ?? 'none',
    };
    log(
      `[memory] ${sizeLabel(size)}: ${run.outcome} (Store: ${run.status}) in ${seconds.toFixed(1)} s, worker RSS ${(run.baselineRss / MiB).toFixed(0)} → peak ${(run.peak / MiB).toFixed(0)} MiB`,
    );
    return run;
  } finally {
    await sandbox?.stop();
    forget();
    rmSync(path, { force: true });
  }
}

function fitCell(peak: number, mb: number): string {
  const margin = mb - peak / MiB;
  return `${margin > 0 ? 'yes' : 'no'} (${margin > 0 ? '+' : ''}${round(margin, 0)} MiB)`;
}

export async function benchMemory(o: MemoryBenchOptions): Promise<BenchOutput> {
  const sizes = [...o.sizes].sort((a, b) => a - b);
  const runs: MemoryRun[] = [];
  for (const [i, size] of sizes.entries()) runs.push(await oneRun(o, size, i));

  const t = table('memory', 'Worker memory of a whole run: zip dropped → Succeeded (host as Flex Consumption)', [
    'zip size',
    'run s',
    'run outcome',
    'Store',
    'uploaded bytes = zip',
    'baseline RSS MiB',
    'peak RSS MiB',
    'growth MiB',
    `peak vs ${sizeLabel(sizes[0]!)}`,
    ...FLEX_INSTANCE_MB.map((mb) => `fits ${mb} MB (margin)`),
  ]);
  const ref = runs[0]!;
  for (const r of runs) {
    t.rows.push([
      sizeLabel(r.bytes),
      round(r.seconds, 1),
      r.outcome,
      r.zipCheck === 'ok' ? `${r.status}, zip read at commit` : `${r.status}, zip check ${r.zipCheck ?? 'none'}`,
      r.uploadedBytes === r.bytes,
      round(r.baselineRss / MiB, 0),
      round(r.peak / MiB, 0),
      round((r.peak - r.baselineRss) / MiB, 0),
      round(r.peak / ref.peak, 2),
      ...FLEX_INSTANCE_MB.map((mb) => fitCell(r.peak, mb)),
    ]);
  }
  const big = runs.at(-1)!;
  t.notes.push(
    'Each size runs on a fresh sandbox: Azurite, the Store emulator (delays 0), the sandbox Functions host as Flex Consumption with the sandbox Event Grid topic delivering BlobCreated to the blob trigger. The zip (one stored MSIX package of random bytes and submission.json) is written to a local file and streamed to the submissions container; nothing holds it in memory.',
    "Baseline = VmRSS of the host's process a moment after start, before the drop; peak = its VmHWM after the run ended (the run validated the zip by range reads, uploaded it to the emulator's fileUploadUrl by the streamed path, committed, and followed it to the end). Growth = peak − baseline. The emulator (in the benchmark's process) and Azurite (its own process) are not counted.",
    "The sandbox host runs the app's functions and the Durable engine in one Node.js process, so this peak includes the host's own work (blob scans, the task hub, HTTP): it is the whole Node side of an instance, an upper bound of the worker's. On Azure the instance memory also holds the Functions host process itself (the .NET host and its extensions), which is not measured here: the margin shown must cover it.",
    'Instance sizes are Flex Consumption instance memory sizes, taken as MiB (as 10^6 bytes, 512 MB is 488 MiB: 24 MiB less margin).',
  );
  const goals: Goal[] = [
    {
      benchmark: 'memory',
      goal: 'a run uploading a 2 GiB zip fits a 512 MB Flex instance with room to spare',
      measured: `worker peak RSS ${round(big.peak / MiB, 0)} MiB at ${sizeLabel(big.bytes)} (${round(ref.peak / MiB, 0)} MiB at ${sizeLabel(ref.bytes)}, ×${round(big.peak / ref.peak, 2)}); baseline ${round(big.baselineRss / MiB, 0)} MiB; margin in 512 MB: ${round(512 - big.peak / MiB, 0)} MiB, before the .NET host's own memory`,
      met: o.smoke
        ? null
        : big.bytes >= 2 * 1024 * MiB && big.peak / MiB < 512 && big.outcome === 'Succeeded' && big.zipCheck === 'ok',
      ...(o.smoke || big.peak / MiB < 512 ? {} : { limit: 'the worker process alone is over 512 MiB at its peak' }),
    },
  ];
  return { tables: [t], goals };
}
