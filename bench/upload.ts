/**
 * Benchmark 1, the upload step: uploadZip (streamed staged blocks; Put Block From URL after a
 * probe; the probe refused and the streamed fallback) side by side with the naive way (whole
 * blob in memory, one PUT) and the raw byte path (curl GET of the source + curl single PUT of
 * the same bytes, timed separately and added). Every variant runs in a process of its own
 * (peak RSS is its own), every copy is checked by MD5 against the source.
 */
import { BlobSASPermissions, BlobServiceClient } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../sandbox/emulator';
import { curlGet, curlPutBlob } from './curl';
import { azuritePid, cpuSecondsOf, machineCpuMeter, quietMoment, reapedChildrenCpuSeconds } from './proc';
import { BenchStoreApi } from './storeApi';
import { type BenchOutput, type Goal, type Log, median, MiB, round, sizeLabel, table, type Table } from './table';
import { runUploadChild, type UploadVariant } from './uploadChild';
import { BENCH_APP_ID, blobMd5, type SourceZip, type ZipCache } from './zips';

export interface BenchStorage {
  connectionString: string;
  ingestConnectionString: string;
  /** Azurite's blob port, to find its process for CPU figures. */
  blobPort?: number;
  /**
   * Restarts Azurite empty on the same ports and puts the held zips back. Azurite in memory frees
   * the extents of deleted blobs only every 10 minutes and refuses writes at half the machine's
   * RAM: a run of multi-GiB copies needs a fresh one now and then.
   */
  recycle?: () => Promise<void>;
}

export interface GridSpec {
  size: number;
  blockMiB: number[];
  concurrency: number[];
  repeats?: number;
}

export interface UploadBenchOptions {
  storage: BenchStorage;
  zips: ZipCache;
  sizes: number[];
  /** Runs per variant and size (medians are reported). Default 3. */
  repeats?: (size: number) => number;
  /** Block size × concurrency grid of the streamed path; null skips it. */
  grid?: GridSpec | null;
  /** Block size × concurrency grid of Put Block From URL; null skips it. */
  fromUrlGrid?: GridSpec | null;
  /** Run the refused-probe fallback through the Store emulator's fileUploadUrl (default true). */
  fallback?: boolean;
  /** MD5 of every copy against the source (default true). */
  verify?: boolean;
  workDir: string;
  /** Zips to keep after the benchmark (another benchmark reads them). */
  keepZip?: (size: number) => boolean;
  /** Before each measurement, wait up to this long for other work on the machine to pause (default 60 s; 0: don't). */
  quietWaitMs?: number;
  /** Bytes written between Azurite restarts (when `storage.recycle` is given). Default 5 GiB. */
  recycleEveryBytes?: number;
  /** Tiny sizes: goals are not judged. */
  smoke?: boolean;
  log?: Log;
}

interface Measure {
  seconds: number;
  bytes: number;
  rssGrowth?: number;
  cpu?: number;
  azuriteCpu?: number;
  otherCores?: number;
  blocks?: number;
  md5ok?: boolean;
  note?: string;
}

interface Destination {
  url: string;
  /** Where the variant's process warms up first. */
  warmUrl: string;
  check(): Promise<{ md5: string; bytes: number }>;
  dispose(): Promise<void>;
}

const DEFAULT_BLOCK = 8 * MiB;
const DEFAULT_CONCURRENCY = 4;
const FROM_URL_BLOCK = 100 * MiB;
/** The issue's memory goal for the upload: peak RSS growth under 100 MiB. */
const MEMORY_BUDGET = 100 * MiB;
/** The zip each variant's process uploads first, unmeasured (see UploadJob.warmup). */
const WARMUP_BYTES = 1 * MiB;

export async function benchUpload(o: UploadBenchOptions): Promise<BenchOutput> {
  const log = o.log ?? (() => undefined);
  const verify = o.verify !== false;
  const repeats = o.repeats ?? (() => 3);
  let azPid = o.storage.blobPort ? azuritePid(o.storage.blobPort) : undefined;
  const ingest = BlobServiceClient.fromConnectionString(o.storage.ingestConnectionString).getContainerClient(
    `bench-dst-${randomBytes(4).toString('hex')}`,
  );
  await ingest.create();
  const ingestion = BlobServiceClient.fromConnectionString(o.storage.ingestConnectionString).getContainerClient(
    'ingestion',
  );
  let written = 0;
  const quietWait = o.quietWaitMs ?? (o.smoke ? 0 : 60_000);
  const recycleEvery = o.recycleEveryBytes ?? 5 * 1024 * MiB;
  /** Restarts Azurite first when this copy would take it past the budget; waits for a quiet machine. */
  const beforeMeasuring = async (bytes: number): Promise<void> => {
    if (o.storage.recycle && written > 0 && written + bytes > recycleEvery) {
      log('[upload] restarting Azurite: in memory, it frees deleted blobs only every 10 minutes');
      await o.storage.recycle();
      await ingest.createIfNotExists();
      await ingestion.createIfNotExists();
      azPid = o.storage.blobPort ? azuritePid(o.storage.blobPort) : undefined;
      written = 0;
    }
    written += bytes;
    if (quietWait > 0) {
      const busy = await quietMoment(quietWait);
      if (busy !== undefined && busy > 0.4) log(`[upload] measuring with ${busy.toFixed(1)} cores busy elsewhere`);
    }
  };
  let emulator: RunningEmulator | undefined;
  let fileUploadUrl: string | undefined;
  if (o.fallback !== false) {
    emulator = await startEmulator({
      ingestConnectionString: o.storage.ingestConnectionString,
      config: { rateLimitEnabled: false },
    });
    const api = await BenchStoreApi.connect(emulator);
    fileUploadUrl = (await api.newSubmission(BENCH_APP_ID)).fileUploadUrl;
  }

  try {
    const direct = async (): Promise<Destination> => {
      const name = `copy-${randomBytes(6).toString('hex')}`;
      const sas = (blobName: string) =>
        ingest.getBlockBlobClient(blobName).generateSasUrl({
          permissions: BlobSASPermissions.parse('cw'),
          expiresOn: new Date(Date.now() + 6 * 3600_000),
        });
      return {
        url: await sas(name),
        warmUrl: await sas(`${name}-warmup`),
        check: () => blobMd5(ingest, name),
        dispose: async () => {
          await ingest.getBlobClient(name).deleteIfExists();
          await ingest.getBlobClient(`${name}-warmup`).deleteIfExists();
        },
      };
    };
    const viaEmulator = async (): Promise<Destination> => {
      const url = fileUploadUrl!;
      const blobName = decodeURIComponent(new URL(url).pathname.split('/').pop()!);
      return {
        url,
        // The warm-up lands where the measured copy will: the measured one replaces it.
        warmUrl: url,
        check: () => blobMd5(ingestion, blobName),
        dispose: async () => void (await ingestion.getBlobClient(blobName).deleteIfExists()),
      };
    };

    const sourceOf = (zip: SourceZip) => ({
      connectionString: o.storage.connectionString,
      container: zip.container.containerName,
      blob: zip.blobName,
      etag: zip.etag,
    });

    /** One variant in its own process, with Azurite's CPU and the machine's load around it. */
    const runChild = async (zip: SourceZip, variant: UploadVariant, dest: Destination): Promise<Measure> => {
      await beforeMeasuring(zip.bytes);
      const az0 = cpuSecondsOf(azPid);
      const self0 = process.cpuUsage();
      const meter = machineCpuMeter();
      const warm = await o.zips.get({ kind: 'single', size: WARMUP_BYTES });
      const r = await runUploadChild({
        variant,
        source: sourceOf(zip),
        destinationUrl: dest.url,
        warmup: { source: sourceOf(warm), destinationUrl: dest.warmUrl },
      });
      const busy = meter();
      const azCpu = az0 === undefined ? undefined : cpuSecondsOf(azPid)! - az0;
      const selfCpu = process.cpuUsage(self0);
      try {
        if (!r.ok) throw new Error(`upload variant ${JSON.stringify(variant)} failed: ${r.error}`);
        const seconds = r.ms / 1000;
        const check = verify ? await dest.check() : undefined;
        if (check && check.bytes !== zip.bytes) throw new Error(`copy has ${check.bytes} bytes, source ${zip.bytes}`);
        // The parent's own CPU counts as "ours" too: it is the emulator's upload proxy in the fallback.
        const ownCpu = (selfCpu.user + selfCpu.system) / 1e6;
        return {
          seconds,
          bytes: r.bytes,
          rssGrowth: r.peakRss - r.baselineRss,
          cpu: r.cpuSeconds,
          azuriteCpu: azCpu,
          otherCores:
            busy === undefined ? undefined : Math.max(0, busy - (r.cpuSeconds + (azCpu ?? 0) + ownCpu) / seconds),
          blocks: r.result?.blocks,
          md5ok: check ? check.md5 === zip.md5 : undefined,
          note: r.result ? `${r.result.method}${r.result.probe ? `, probe ${r.result.probe}` : ''}` : undefined,
        };
      } finally {
        await dest.dispose();
      }
    };

    const runCurl = async (zip: SourceZip): Promise<{ get: Measure; put: Measure; raw: Measure }> => {
      await beforeMeasuring(zip.bytes);
      const sourceUrl = await zip.container.getBlobClient(zip.blobName).generateSasUrl({
        permissions: BlobSASPermissions.parse('r'),
        expiresOn: new Date(Date.now() + 6 * 3600_000),
      });
      const timed = async (what: () => Promise<{ seconds: number; bytes: number; status: number }>) => {
        const az0 = cpuSecondsOf(azPid);
        const c0 = reapedChildrenCpuSeconds();
        const meter = machineCpuMeter();
        const r = await what();
        const busy = meter();
        const cpu = c0 === undefined ? undefined : reapedChildrenCpuSeconds()! - c0;
        const azCpu = az0 === undefined ? undefined : cpuSecondsOf(azPid)! - az0;
        return {
          seconds: r.seconds,
          bytes: r.bytes,
          cpu,
          azuriteCpu: azCpu,
          otherCores: busy === undefined ? undefined : Math.max(0, busy - ((cpu ?? 0) + (azCpu ?? 0)) / r.seconds),
        };
      };
      const get = await timed(() => curlGet(sourceUrl));
      const dest = await direct();
      try {
        const put = await timed(() => curlPutBlob(dest.url, zip.path));
        const check = verify ? await dest.check() : undefined;
        const md5ok = check ? check.md5 === zip.md5 : undefined;
        const raw: Measure = {
          seconds: get.seconds + put.seconds,
          bytes: zip.bytes,
          cpu: get.cpu === undefined || put.cpu === undefined ? undefined : get.cpu + put.cpu,
          azuriteCpu:
            get.azuriteCpu === undefined || put.azuriteCpu === undefined ? undefined : get.azuriteCpu + put.azuriteCpu,
          otherCores:
            get.otherCores === undefined || put.otherCores === undefined
              ? undefined
              : (get.otherCores * get.seconds + put.otherCores * put.seconds) / (get.seconds + put.seconds),
          md5ok,
        };
        return { get: { ...get, md5ok: undefined }, put: { ...put, md5ok }, raw };
      } finally {
        await dest.dispose();
      }
    };

    const stream = (blockSizeBytes: number, concurrency: number): UploadVariant => ({
      kind: 'ours',
      method: 'stream',
      blockSizeBytes,
      concurrency,
    });
    const fromUrl = (fromUrlBlockSizeBytes: number, concurrency: number): UploadVariant => ({
      kind: 'ours',
      method: 'fromUrl',
      fromUrlBlockSizeBytes,
      concurrency,
    });

    const tables: Table[] = [];
    const goals: Goal[] = [];

    // ---- tuning grids
    const gridBest = async (
      spec: GridSpec,
      make: (block: number, conc: number) => UploadVariant,
      id: string,
      title: string,
      defaults: { block: number; concurrency: number },
    ): Promise<{ block: number; concurrency: number } | undefined> => {
      const t = table(id, title, [
        'block MiB',
        'concurrency',
        'wall s',
        'MiB/s',
        'peak RSS +MiB',
        'CPU s',
        'Azurite CPU s',
        'other load (cores)',
        'md5 ok',
      ]);
      const zip = await o.zips.get({ kind: 'single', size: spec.size });
      const cells = spec.blockMiB.flatMap((block) => spec.concurrency.map((concurrency) => ({ block, concurrency })));
      const runs = cells.map((): Measure[] => []);
      // Round by round through all cells, so a busy spell on the machine spreads over many cells.
      for (let rep = 0; rep < (spec.repeats ?? 1); rep++) {
        for (const [i, c] of cells.entries()) {
          const m = await runChild(zip, make(c.block * MiB, c.concurrency), await direct());
          runs[i]!.push(m);
          log(
            `[upload] ${title}: ${c.block} MiB x ${c.concurrency} #${rep + 1}: ${(zip.bytes / MiB / m.seconds).toFixed(1)} MiB/s, +${mib(m.rssGrowth)} MiB`,
          );
        }
      }
      const results: Array<{ block: number; concurrency: number; mibs: number; rss: number }> = [];
      for (const [i, c] of cells.entries()) {
        const m = summarize(runs[i]!);
        const mibs = zip.bytes / MiB / m.seconds;
        results.push({ block: c.block, concurrency: c.concurrency, mibs, rss: m.rssGrowth ?? 0 });
        t.rows.push([
          c.block,
          c.concurrency,
          round(m.seconds, 3),
          round(mibs, 1),
          mib(m.rssGrowth),
          round2(m.cpu),
          round2(m.azuriteCpu),
          round2(m.otherCores),
          m.md5ok ?? null,
        ]);
      }
      // The fastest cell that keeps the memory goal (growth under MEMORY_BUDGET); cells within 5% of
      // it are noise on this machine: of those, the default if it is one, else the leanest.
      const fitting = results.filter((r) => r.rss < MEMORY_BUDGET);
      const pool = fitting.length ? fitting : results;
      const top = Math.max(...pool.map((r) => r.mibs));
      const fastest = Math.max(...results.map((r) => r.mibs));
      const close = pool.filter((r) => r.mibs >= 0.95 * top);
      const keep = close.find((r) => r.block * MiB === defaults.block && r.concurrency === defaults.concurrency);
      const best = keep ?? [...close].sort((a, b) => a.rss - b.rss)[0];
      t.notes.push(
        `${sizeLabel(spec.size)} zip, ${spec.repeats ?? 1} run(s) per cell (median MiB/s, largest RSS). Fastest cell: ${fastest.toFixed(1)} MiB/s; fastest within the ${MEMORY_BUDGET / MiB} MiB memory goal: ${top.toFixed(1)} MiB/s.`,
        `Best: ${best?.block} MiB × ${best?.concurrency}, ${
          keep
            ? 'the default, within 5% of the fastest cell that keeps the memory goal'
            : 'the leanest cell within 5% of the fastest that keeps the memory goal (the default is not among them)'
        }.`,
      );
      tables.push(t);
      return best && { block: best.block * MiB, concurrency: best.concurrency };
    };

    let tuned: { block: number; concurrency: number } | undefined;
    if (o.grid)
      tuned = await gridBest(
        o.grid,
        stream,
        'upload-tuning-stream',
        `Upload tuning: streamed staged blocks (Put Block), ${sizeLabel(o.grid.size)}`,
        { block: DEFAULT_BLOCK, concurrency: DEFAULT_CONCURRENCY },
      );
    let tunedFromUrl: { block: number; concurrency: number } | undefined;
    if (o.fromUrlGrid)
      tunedFromUrl = await gridBest(
        o.fromUrlGrid,
        fromUrl,
        'upload-tuning-fromurl',
        `Upload tuning: Put Block From URL, ${sizeLabel(o.fromUrlGrid.size)}`,
        { block: FROM_URL_BLOCK, concurrency: DEFAULT_CONCURRENCY },
      );

    // ---- the main comparison
    const main = table('upload', 'Upload: zip in Azurite → destination SAS in Azurite (second account)', [
      'size',
      'variant',
      'wall s',
      'MiB/s',
      'vs raw',
      'peak RSS +MiB',
      'CPU s',
      'Azurite CPU s',
      'other load (cores)',
      'blocks',
      'path taken',
      'md5 ok',
    ]);
    const bySize = new Map<number, Map<string, Measure>>();
    const tunedDiffers = tuned && (tuned.block !== DEFAULT_BLOCK || tuned.concurrency !== DEFAULT_CONCURRENCY);
    for (const size of o.sizes) {
      const zip = await o.zips.get({ kind: 'single', size });
      type Runner = { name: string; run: () => Promise<Measure | { get: Measure; put: Measure; raw: Measure }> };
      const runners: Runner[] = [
        { name: 'raw', run: () => runCurl(zip) },
        { name: 'naive', run: () => direct().then((d) => runChild(zip, { kind: 'naive' }, d)) },
        {
          name: 'stream',
          run: () => direct().then((d) => runChild(zip, stream(DEFAULT_BLOCK, DEFAULT_CONCURRENCY), d)),
        },
        ...(tunedDiffers
          ? [
              {
                name: 'streamTuned',
                run: () => direct().then((d) => runChild(zip, stream(tuned!.block, tuned!.concurrency), d)),
              },
            ]
          : []),
        {
          name: 'auto',
          run: () =>
            direct().then((d) =>
              runChild(
                zip,
                {
                  kind: 'ours',
                  method: 'auto',
                  concurrency: DEFAULT_CONCURRENCY,
                  ...(tunedFromUrl
                    ? { fromUrlBlockSizeBytes: tunedFromUrl.block, concurrency: tunedFromUrl.concurrency }
                    : {}),
                },
                d,
              ),
            ),
        },
        ...(fileUploadUrl
          ? [
              {
                name: 'fallback',
                run: () => viaEmulator().then((d) => runChild(zip, { kind: 'ours', method: 'auto' }, d)),
              },
            ]
          : []),
      ];
      const samples = new Map<string, Measure[]>();
      const add = (name: string, m: Measure): void => void samples.set(name, [...(samples.get(name) ?? []), m]);
      const n = repeats(size);
      for (let rep = 0; rep < n; rep++) {
        // Rotate the order each repetition, so no variant always runs on a fresh (or a tired) Azurite.
        for (let k = 0; k < runners.length; k++) {
          const runner = runners[(k + rep) % runners.length]!;
          const m = await runner.run();
          if ('raw' in m) {
            add('get', m.get);
            add('put', m.put);
            add('raw', m.raw);
          } else add(runner.name, m);
          const shown = 'raw' in m ? m.raw : m;
          log(
            `[upload] ${sizeLabel(size)} ${runner.name} #${rep + 1}: ${(zip.bytes / MiB / shown.seconds).toFixed(1)} MiB/s${shown.rssGrowth === undefined ? '' : `, +${mib(shown.rssGrowth)} MiB`}`,
          );
        }
      }
      const med = new Map([...samples].map(([k, v]) => [k, summarize(v)]));
      bySize.set(size, med);
      const raw = med.get('raw')!;
      const rawRate = zip.bytes / MiB / raw.seconds;
      const label = sizeLabel(size);
      const row = (variant: string, m: Measure | undefined, showRatio = true): void => {
        if (!m) return;
        const rate = zip.bytes / MiB / m.seconds;
        main.rows.push([
          label,
          variant,
          round(m.seconds, 3),
          round(rate, 1),
          showRatio ? round(rate / rawRate, 2) : null,
          mib(m.rssGrowth),
          round2(m.cpu),
          round2(m.azuriteCpu),
          round2(m.otherCores),
          m.blocks ?? null,
          m.note ?? null,
          m.md5ok ?? null,
        ]);
      };
      row('raw byte path: curl GET + curl PUT (the limit)', raw);
      row('  curl GET of the source alone', med.get('get'), false);
      row('  curl single PUT alone', med.get('put'), false);
      row('naive: whole blob in a Buffer, one PUT', med.get('naive'));
      row(`ours, streamed: ${DEFAULT_BLOCK / MiB} MiB × ${DEFAULT_CONCURRENCY} (default)`, med.get('stream'));
      if (tunedDiffers)
        row(`ours, streamed: ${tuned!.block / MiB} MiB × ${tuned!.concurrency} (tuned)`, med.get('streamTuned'));
      const fu = tunedFromUrl ?? { block: FROM_URL_BLOCK, concurrency: DEFAULT_CONCURRENCY };
      row(`ours, auto: probe accepted → Put Block From URL ${fu.block / MiB} MiB × ${fu.concurrency}`, med.get('auto'));
      row('ours, auto: probe refused (sv 2017-04-17) → streamed 8 MiB × 4, via the emulator', med.get('fallback'));
      log(`[upload] ${label}: raw ${rawRate.toFixed(1)} MiB/s`);
      if (!o.keepZip?.(size)) await o.zips.release({ kind: 'single', size });
    }
    main.notes.push(
      'Wall time of the upload step only (process start excluded); MiB/s = zip bytes / wall time; "vs raw" = MiB/s / the raw byte path\'s MiB/s, where the raw byte path is curl GET time + curl PUT time (transfer times reported by curl).',
      'Peak RSS +MiB = VmHWM at the end − VmRSS just before the upload, in a process of its own per run. CPU s = that process; Azurite CPU s = the Azurite process over the same interval; "other load" = the machine\'s busy cores minus the measured processes (other work on the machine).',
      'Every copy is read back and its MD5 compared with the source ("md5 ok"). Medians over the runs of each size; RSS is the largest of the runs.',
      "The fallback row goes through the Store emulator's upload proxy (it refuses x-ms-copy-source under sv 2017-04-17, as the service does), which streams on to Azurite: one more hop on this machine, whose CPU the benchmark process pays.",
    );
    tables.unshift(main);

    // ---- goals
    if (!o.smoke && o.sizes.length > 0) {
      const sizes = [...o.sizes].sort((a, b) => a - b);
      const largest = sizes.at(-1)!;
      const smallest = sizes[0]!;
      const ratio = (size: number, name: string): number => {
        const m = bySize.get(size)!;
        return m.get('raw')!.seconds / m.get(name)!.seconds;
      };
      const judge = (name: string, what: string): void => {
        if (!bySize.get(largest)?.get(name)) return;
        const ratios = sizes.map((s) => ({ s, r: ratio(s, name) }));
        const worst = ratios.reduce((a, b) => (b.r < a.r ? b : a));
        goals.push({
          benchmark: 'upload',
          goal: `${what}: throughput ≥ 0.8 × raw byte path at every size`,
          measured: ratios.map((x) => `${sizeLabel(x.s)} ${x.r.toFixed(2)}`).join(', '),
          met: worst.r >= 0.8,
          limit: worst.r >= 0.8 ? undefined : limitOf(bySize.get(worst.s)!, name, worst.s),
        });
        const gBig = bySize.get(largest)!.get(name)!.rssGrowth ?? NaN;
        const gSmall = bySize.get(smallest)!.get(name)!.rssGrowth ?? NaN;
        goals.push({
          benchmark: 'upload',
          goal: `${what}: peak RSS growth < 100 MiB at 2 GiB`,
          measured: `${mib(gBig)} MiB at ${sizeLabel(largest)}`,
          met: largest >= 2048 * MiB ? gBig < MEMORY_BUDGET : null,
        });
        goals.push({
          benchmark: 'upload',
          goal: `${what}: peak RSS flat as size grows`,
          measured: sizes.map((s) => `${sizeLabel(s)} ${mib(bySize.get(s)!.get(name)!.rssGrowth)} MiB`).join(', '),
          met: gBig <= gSmall * 1.25 + 16 * MiB,
        });
      };
      judge('stream', `streamed ${DEFAULT_BLOCK / MiB} MiB × ${DEFAULT_CONCURRENCY} (default)`);
      if (tunedDiffers) judge('streamTuned', `streamed ${tuned!.block / MiB} MiB × ${tuned!.concurrency} (tuned)`);
      judge('auto', 'Put Block From URL (auto, probe accepted)');
      judge('fallback', 'probe refused → streamed fallback');
    }
    return { tables, goals };
  } finally {
    await o.zips.release({ kind: 'single', size: WARMUP_BYTES }).catch(() => undefined);
    await ingest.deleteIfExists().catch(() => undefined);
    await emulator?.stop();
  }
}

/**
 * What bounds a variant, from its own figures: Azurite is one JavaScript thread, so when it is
 * busy for most of the wall time, its CPU per GiB on this path against the raw path's is the bound.
 */
function limitOf(measures: Map<string, Measure>, name: string, size: number): string {
  const m = measures.get(name)!;
  const raw = measures.get('raw')!;
  const perGiB = (cpu: number | undefined): string =>
    cpu === undefined ? '?' : ((cpu / size) * 1024 * MiB).toFixed(1);
  const busy = m.azuriteCpu === undefined ? undefined : m.azuriteCpu / m.seconds;
  const azurite =
    `Azurite: ${perGiB(m.azuriteCpu)} CPU s/GiB on this path vs ${perGiB(raw.azuriteCpu)} on the raw path (one GET + one Put Blob), ` +
    `busy ${busy === undefined ? '?' : busy.toFixed(2)} cores of its single JavaScript thread (+GC) during the copy at ${sizeLabel(size)}`;
  if (name === 'auto')
    return `${azurite}: Azurite emulates Put Block From URL by reading the source itself; our process spends ${m.cpu?.toFixed(2) ?? '?'} CPU s (no bytes pass through it)`;
  if (size < 256 * MiB) return `${azurite}; at small sizes the fixed requests (properties, probe, commit) weigh too`;
  return `${azurite}: Put Block (MD5-checked) costs it more per byte than one Put Blob`;
}

function summarize(runs: Measure[]): Measure {
  const pick = (f: (m: Measure) => number | undefined): number | undefined => {
    const v = runs.map(f).filter((x): x is number => x !== undefined);
    return v.length ? median(v) : undefined;
  };
  const rss = runs.map((m) => m.rssGrowth).filter((x): x is number => x !== undefined);
  return {
    seconds: pick((m) => m.seconds)!,
    bytes: runs[0]!.bytes,
    rssGrowth: rss.length ? Math.max(...rss) : undefined,
    cpu: pick((m) => m.cpu),
    azuriteCpu: pick((m) => m.azuriteCpu),
    otherCores: pick((m) => m.otherCores),
    blocks: runs[0]!.blocks,
    md5ok: runs.every((m) => m.md5ok === undefined) ? undefined : runs.every((m) => m.md5ok === true),
    note: runs[0]!.note,
  };
}

function mib(bytes: number | undefined): number | null {
  return bytes === undefined || !Number.isFinite(bytes) ? null : round(bytes / MiB, 0);
}

function round2(v: number | undefined): number | null {
  return v === undefined ? null : round(v, 2);
}
