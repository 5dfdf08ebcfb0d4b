/**
 * Benchmark 5, many products: N zips for N different apps dropped at once, with the emulator's
 * rate limit off and the app's own Store request limiter set to its maximum, on the sandbox with
 * zero emulator delays. Total time from the first drop to the last run done, and the Functions
 * host's CPU time per run (the host and its worker are one process in the sandbox).
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { instanceIdFor } from '../lib/instanceId';
import type { Azurite } from '../sandbox/azurite';
import type { Sandbox } from '../sandbox/stack';
import { smallZip } from './pipeline';
import { whileRunning } from './cleanup';
import { cpuSecondsOf } from './proc';
import { benchSeed, HostLog, sleep, startBenchSandbox } from './sandboxKit';
import { type BenchOutput, type Goal, type Log, median, percentile, round, table } from './table';

export interface ProductsBenchOptions {
  azurite?: Pick<Azurite, 'connectionString' | 'ingestConnectionString'>;
  products: number;
  blobPollIntervalMs?: number;
  /** Host clock speed: smoke tests shorten the product queue's 10 s settle timer with it. Default 1. */
  clockSpeed?: number;
  smoke?: boolean;
  log?: Log;
}

interface Wave {
  products: number;
  totalSeconds: number;
  succeeded: number;
  hostCpu?: number;
  latencies: number[];
}

export async function benchProducts(o: ProductsBenchOptions): Promise<BenchOutput> {
  const log = o.log ?? (() => undefined);
  const blobPollIntervalMs = o.blobPollIntervalMs ?? 1000;
  const { seed, appIds } = benchSeed(o.products);
  const hostLog = new HostLog();
  let sandbox: Sandbox | undefined;
  const forget = whileRunning(async () => sandbox?.stop());
  const waves: Wave[] = [];
  try {
    sandbox = await startBenchSandbox({
      name: 'benchprod',
      seed,
      hostLog,
      azurite: o.azurite,
      blobPollIntervalMs,
      clockSpeed: o.clockSpeed,
    });
    const container = BlobServiceClient.fromConnectionString(sandbox.azurite.connectionString).getContainerClient(
      sandbox.settings.SUBMISSIONS_CONTAINER!,
    );
    let waveNumber = 0;
    const wave = async (ids: string[], label: string): Promise<Wave> => {
      // Each wave a higher package version: the Store refuses one that does not go up.
      const version = `2.0.${waveNumber++}.0`;
      const zips = await Promise.all(appIds.map((id) => smallZip(id, version)));
      hostLog.clear();
      const cpu0 = cpuSecondsOf(sandbox!.host.pid);
      const t0 = Date.now();
      const landed = new Map<string, number>();
      // Drop them all at once (16 uploads in flight): each zip is ~65 KiB.
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(16, ids.length) }, async () => {
          while (next < ids.length) {
            const i = next++;
            const name = `bench/${label}/${ids[i]}.zip`;
            const up = await container.getBlockBlobClient(name).uploadData(zips[appIds.indexOf(ids[i]!)]!);
            landed.set(instanceIdFor(container.containerName, name, up.etag!), Date.now());
          }
        }),
      );
      const ends = await Promise.all([...landed.keys()].map((id) => hostLog.waitForEnd(id, 15 * 60_000)));
      const doneAt = Math.max(...ends.map((e) => Date.parse(e.line.time)));
      const cpu1 = cpuSecondsOf(sandbox!.host.pid);
      const latencies = ends.map((e, i) => (Date.parse(e.line.time) - [...landed.values()][i]!) / 1000);
      // Let the host finish its bookkeeping (report blobs, receipts) before the next wave's CPU count.
      await sleep(500);
      return {
        products: ids.length,
        totalSeconds: (doneAt - t0) / 1000,
        succeeded: ends.filter((e) => e.ok).length,
        hostCpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
        latencies,
      };
    };

    // One product first: the worker warms up (modules, token) and it is the per-run reference.
    await wave([appIds[0]!], 'warmup');
    const single = await wave([appIds[0]!], 'single');
    waves.push(single);
    log(`[products] 1 product: ${single.totalSeconds.toFixed(1)} s, host CPU ${single.hostCpu?.toFixed(2)} s`);
    const all = await wave(appIds, 'all');
    waves.push(all);
    log(
      `[products] ${all.products} products: ${all.totalSeconds.toFixed(1)} s, ${all.succeeded} succeeded, host CPU ${all.hostCpu?.toFixed(2)} s`,
    );
  } finally {
    await sandbox?.stop();
    forget();
  }

  const t = table('products', 'Many products dropped at once (rate limits off, emulator delays 0)', [
    'products',
    'total s (first drop → last run done)',
    'runs succeeded',
    'runs per minute',
    'host CPU s',
    'host CPU per run ms',
    'run latency p50 s',
    'run latency p95 s',
  ]);
  for (const w of waves) {
    t.rows.push([
      w.products,
      round(w.totalSeconds, 1),
      w.succeeded,
      round((w.products / w.totalSeconds) * 60, 0),
      w.hostCpu === undefined ? null : round(w.hostCpu, 2),
      w.hostCpu === undefined ? null : round((w.hostCpu / w.products) * 1000, 0),
      round(median(w.latencies), 1),
      round(percentile(w.latencies, 95), 1),
    ]);
  }
  t.notes.push(
    `Each run: validate (range reads), credential, product, create, update, upload (~65 KiB), commit, follow until the Store took the commit, report. Apps seeded in the emulator (one published submission each); STORE_MAX_REQUESTS_PER_MINUTE=10000 and the emulator's rateLimitEnabled=false; blob scan every ${blobPollIntervalMs} ms; host.json: 8 activities and 8 orchestrator episodes at a time.`,
    'Host CPU = user + system time of the sandbox host process over the wave (from the first drop until the last run ended). Run latency = its zip landing → its orchestration completed (host log time). A warm-up run precedes the waves.',
  );
  const goals: Goal[] = [];
  const all = waves.at(-1)!;
  goals.push({
    benchmark: 'products',
    goal: `${all.products} products at once: all runs succeed; total time and host CPU per run reported`,
    measured: `${all.succeeded}/${all.products} succeeded in ${round(all.totalSeconds, 1)} s, host CPU ${all.hostCpu === undefined ? '—' : `${round((all.hostCpu / all.products) * 1000, 0)} ms`} per run (1 product alone: ${waves[0]?.hostCpu === undefined ? '—' : `${round(waves[0].hostCpu * 1000, 0)} ms`})`,
    met: o.smoke ? null : all.succeeded === all.products,
  });
  return { tables: [t], goals };
}
