/**
 * `npm run bench`: every benchmark against Azurite and the sandbox on this machine, one table
 * each, then the goals judged from the figures.
 *
 *   node dist/bench/run.js [--only upload,manifest,identity,waits,pipeline,products,memory] [--sizes 64M,512M,2G]
 *       [--repeat N] [--no-grid] [--grid-size 512M] [--durations 1h,1d,7d] [--products 100] [--memory-sizes 64M,2G]
 *       [--smoke] [--markdown FILE] [--json FILE] [--work-dir DIR]
 *
 * Progress goes to stderr, the tables to stdout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../sandbox/azurite';
import { benchIdentity } from './identity';
import { benchManifest } from './manifest';
import { benchMemory } from './memory';
import { benchPipeline } from './pipeline';
import { benchProducts } from './products';
import { stopEverything, whileRunning } from './cleanup';
import { machine, machineLine, type Machine } from './proc';
import {
  formatMarkdown,
  formatText,
  type Goal,
  goalsTable,
  GiB,
  KiB,
  type Log,
  MiB,
  parseSize,
  type Table,
} from './table';
import { benchUpload } from './upload';
import { benchWaits, parseDuration } from './waits';
import { ZipCache } from './zips';

export const BENCHMARKS = ['upload', 'manifest', 'identity', 'waits', 'pipeline', 'products', 'memory'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export interface RunOptions {
  only: BenchmarkName[];
  sizes: number[];
  repeat?: number;
  grid: boolean;
  gridSize: number;
  durations: number[];
  products: number;
  pipelineRuns: number;
  /** Zip sizes of the whole-run memory benchmark (the smallest is the ratio's reference). */
  memorySizes: number[];
  smoke: boolean;
  workDir?: string;
  log: Log;
}

export function defaultOptions(smoke = false): RunOptions {
  return {
    only: [...BENCHMARKS],
    sizes: smoke ? [256 * KiB, 1 * MiB] : [64 * MiB, 512 * MiB, 2 * GiB],
    grid: true,
    gridSize: smoke ? 1 * MiB : 512 * MiB,
    durations: smoke ? [600, 7200] : [3600, 86400, 7 * 86400],
    products: smoke ? 4 : 100,
    pipelineRuns: smoke ? 2 : 7,
    memorySizes: smoke ? [256 * KiB, 1 * MiB] : [64 * MiB, 2 * GiB],
    smoke,
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

export function parseArgs(argv: string[]): RunOptions & { markdown?: string; json?: string } {
  const smoke = argv.includes('--smoke');
  const o: RunOptions & { markdown?: string; json?: string } = defaultOptions(smoke);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--smoke':
        break;
      case '--only': {
        const names = value()
          .split(',')
          .map((s) => s.trim());
        for (const n of names)
          if (!(BENCHMARKS as readonly string[]).includes(n))
            throw new Error(`unknown benchmark "${n}" (one of ${BENCHMARKS.join(', ')})`);
        o.only = names as BenchmarkName[];
        break;
      }
      case '--sizes':
        o.sizes = value().split(',').map(parseSize);
        break;
      case '--repeat':
        o.repeat = Number(value());
        break;
      case '--no-grid':
        o.grid = false;
        break;
      case '--grid-size':
        o.gridSize = parseSize(value());
        break;
      case '--durations':
        o.durations = value().split(',').map(parseDuration);
        break;
      case '--products':
        o.products = Number(value());
        break;
      case '--pipeline-runs':
        o.pipelineRuns = Number(value());
        break;
      case '--memory-sizes':
        o.memorySizes = value().split(',').map(parseSize);
        break;
      case '--work-dir':
        o.workDir = value();
        break;
      case '--markdown':
        o.markdown = value();
        break;
      case '--json':
        o.json = value();
        break;
      case '--help':
      case '-h':
        console.log(
          'Usage: node dist/bench/run.js [--only upload,manifest,identity,waits,pipeline,products,memory] [--sizes 64M,512M,2G] [--repeat N] [--no-grid] [--grid-size 512M] [--durations 1h,1d,7d] [--products 100] [--pipeline-runs 7] [--memory-sizes 64M,2G] [--smoke] [--markdown FILE] [--json FILE] [--work-dir DIR]',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag} (see --help)`);
    }
  }
  return o;
}

export interface RunResult {
  machine: Machine;
  tables: Table[];
  goals: Goal[];
}

export async function runBenchmarks(o: RunOptions): Promise<RunResult> {
  const m = machine();
  const tables: Table[] = [];
  const goals: Goal[] = [];
  const work = o.workDir ?? mkdtempSync(join(tmpdir(), 'store-bench-'));
  let azurite: Azurite | undefined;
  let zips: ZipCache | undefined;
  let forget = (): void => undefined;
  try {
    azurite = await startAzurite();
    const started = azurite;
    forget = whileRunning(() => started.stop());
    zips = new ZipCache(azurite.connectionString, join(work, 'zips'));
    const cache = zips;
    const storage = {
      connectionString: azurite.connectionString,
      ingestConnectionString: azurite.ingestConnectionString,
      blobPort: azurite.blobPort,
      // Same ports and keys: every connection string and client stays valid.
      recycle: async (): Promise<void> => {
        const old = azurite!;
        await old.stop();
        forget();
        const fresh = await startAzurite({
          blobPort: old.blobPort,
          queuePort: old.queuePort,
          tablePort: old.tablePort,
          ingestKey: old.ingestKey,
        });
        azurite = fresh;
        forget = whileRunning(() => fresh.stop());
        await cache.reupload();
      },
    };
    const wantManifest = o.only.includes('manifest');
    const bigSize = o.smoke ? Math.max(...o.sizes) : 2 * GiB;
    if (o.only.includes('upload')) {
      const r = await benchUpload({
        storage,
        zips,
        sizes: o.sizes,
        repeats: o.repeat ? () => o.repeat! : undefined,
        grid: o.grid
          ? {
              size: o.gridSize,
              blockMiB: o.smoke ? [1, 4] : [4, 8, 16, 32],
              concurrency: o.smoke ? [2] : [2, 4, 8],
              repeats: o.smoke ? 1 : 3,
            }
          : null,
        // Put Block From URL is Azurite-bound here (no bytes pass through us): one run per cell shows the shape.
        fromUrlGrid: o.grid
          ? {
              size: o.gridSize,
              blockMiB: o.smoke ? [1] : [8, 32, 100],
              concurrency: o.smoke ? [2] : [2, 4, 8],
              repeats: 1,
            }
          : null,
        workDir: work,
        keepZip: (size) => wantManifest && size === bigSize,
        smoke: o.smoke,
        log: o.log,
      });
      tables.push(...r.tables);
      goals.push(...r.goals);
    }
    if (wantManifest) {
      const r = await benchManifest({
        zips,
        bigSize,
        many: o.smoke ? { entries: 50, entryBytes: 4 * KiB } : { entries: 2000, entryBytes: 16 * KiB },
        repeats: o.smoke ? 1 : 3,
        tailPrefetchVariant: 1 * MiB,
        smoke: o.smoke,
        log: o.log,
      });
      tables.push(...r.tables);
      goals.push(...r.goals);
    }
    await zips.releaseAll();
    if (o.only.includes('identity')) {
      const r = await benchIdentity({
        container: BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
          'bench-identity',
        ),
        size: o.smoke ? 4 * MiB : 2 * GiB,
        workDir: work,
        smoke: o.smoke,
        log: o.log,
      });
      tables.push(...r.tables);
      goals.push(...r.goals);
    }
    // Smoke runs check the machinery, not the timings: a faster host clock and blob scan.
    const fastInSmoke = o.smoke ? { clockSpeed: 20, blobPollIntervalMs: 200 } : {};
    const shared = {
      connectionString: azurite.connectionString,
      ingestConnectionString: azurite.ingestConnectionString,
    };
    if (o.only.includes('waits')) {
      const r = await benchWaits({ azurite: shared, durations: o.durations, smoke: o.smoke, log: o.log });
      tables.push(...r.tables);
      goals.push(...r.goals);
    }
    if (o.only.includes('pipeline')) {
      const r = await benchPipeline({
        azurite: shared,
        runs: o.pipelineRuns,
        ...fastInSmoke,
        smoke: o.smoke,
        log: o.log,
      });
      tables.push(...r.tables);
      goals.push(...r.goals);
    }
    if (o.only.includes('products')) {
      const r = await benchProducts({
        azurite: shared,
        products: o.products,
        ...fastInSmoke,
        smoke: o.smoke,
        log: o.log,
      });
      tables.push(...r.tables);
      goals.push(...r.goals);
    }
    if (o.only.includes('memory')) {
      // Azurite in memory frees deleted blobs' extents only every 10 minutes: start this one on a fresh one.
      if (!o.smoke && o.only.length > 1) await storage.recycle();
      const r = await benchMemory({
        azurite: shared,
        sizes: o.memorySizes,
        workDir: work,
        ...fastInSmoke,
        smoke: o.smoke,
        log: o.log,
      });
      tables.push(...r.tables);
      goals.push(...r.goals);
    }
  } finally {
    await zips?.releaseAll().catch(() => undefined);
    await azurite?.stop();
    forget();
    if (!o.workDir) rmSync(work, { recursive: true, force: true });
  }
  return { machine: m, tables, goals };
}

export function renderText(r: RunResult): string {
  const parts = [`Machine: ${machineLine(r.machine)}`, ...r.tables.map(formatText)];
  if (r.goals.length) parts.push(formatText(goalsTable(r.goals)));
  return parts.join('\n\n');
}

export function renderMarkdown(r: RunResult): string {
  const parts = [`Machine: ${machineLine(r.machine)}`, ...r.tables.map(formatMarkdown)];
  if (r.goals.length) parts.push(formatMarkdown(goalsTable(r.goals)));
  return parts.join('\n\n');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      o.log(`${signal}: stopping Azurite, the emulator and the host`);
      void stopEverything().finally(() => process.exit(130));
    });
  }
  o.log(`Machine: ${machineLine()}`);
  const r = await runBenchmarks(o);
  console.log(renderText(r));
  if (o.markdown) writeFileSync(o.markdown, `${renderMarkdown(r)}\n`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(r, null, 2)}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
