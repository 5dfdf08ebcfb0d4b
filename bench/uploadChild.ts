/**
 * One upload variant in a process of its own, so its peak memory is its own: the parent forks
 * this file, sends one job over IPC (never argv: the job holds SAS URLs and a key) and gets one
 * result back. Peak RSS is VmHWM at the end minus VmRSS just before the upload starts.
 */
import { AnonymousCredential, BlobServiceClient, BlockBlobClient, newPipeline } from '@azure/storage-blob';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { redact, registerSecret } from '../lib/redact';
import { uploadZip, type UploadResult } from '../lib/upload';
import { memoryOfSelf } from './proc';

export type UploadVariant =
  | {
      kind: 'ours';
      method: 'stream' | 'auto' | 'fromUrl';
      blockSizeBytes?: number;
      concurrency?: number;
      fromUrlBlockSizeBytes?: number;
    }
  /** The usual script: the whole blob into a Buffer, then one Put Blob. */
  | { kind: 'naive' };

export interface UploadSource {
  connectionString: string;
  container: string;
  blob: string;
  etag: string;
}

export interface UploadJob {
  variant: UploadVariant;
  source: UploadSource;
  destinationUrl: string;
  /**
   * The same upload of a small zip first, unmeasured: the code paths are then compiled, as in a
   * Functions worker that has run before, and a fresh process's JIT does not weigh on small sizes.
   */
  warmup?: { source: UploadSource; destinationUrl: string };
}

export type UploadChildResult =
  | {
      ok: true;
      ms: number;
      bytes: number;
      baselineRss: number;
      peakRss: number;
      cpuSeconds: number;
      result?: UploadResult;
    }
  | { ok: false; error: string };

function blobOf(s: UploadSource) {
  return BlobServiceClient.fromConnectionString(s.connectionString)
    .getContainerClient(s.container)
    .getBlobClient(s.blob);
}

async function upload(
  variant: UploadVariant,
  s: UploadSource,
  destinationUrl: string,
): Promise<{ bytes: number; result?: UploadResult }> {
  const source = blobOf(s);
  if (variant.kind === 'naive') {
    const data = await source.downloadToBuffer(0, undefined, { conditions: { ifMatch: s.etag } });
    const destination = new BlockBlobClient(
      destinationUrl.replace(/\+/g, '%2B'),
      newPipeline(new AnonymousCredential()),
    );
    await destination.upload(data, data.length);
    return { bytes: data.length };
  }
  const { kind: _kind, ...options } = variant;
  const result = await uploadZip({ source, sourceEtag: s.etag, destinationUrl, ...options });
  return { bytes: result.bytes, result };
}

async function run(job: UploadJob): Promise<UploadChildResult> {
  registerSecret(job.destinationUrl);
  if (job.warmup) {
    registerSecret(job.warmup.destinationUrl);
    await upload(job.variant, job.warmup.source, job.warmup.destinationUrl);
  }
  await blobOf(job.source).getProperties();
  const baselineRss = memoryOfSelf().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { bytes, result } = await upload(job.variant, job.source, job.destinationUrl);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    ok: true,
    ms,
    bytes,
    baselineRss,
    peakRss: memoryOfSelf().peak,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    result,
  };
}

if (require.main === module) {
  // The parent is gone (interrupted): stop, rather than upload on for nobody.
  process.once('disconnect', () => process.exit(1));
  process.once('message', (job: UploadJob) => {
    run(job)
      .catch((e: unknown): UploadChildResult => ({
        ok: false,
        error: redact(e instanceof Error ? e.message : String(e)),
      }))
      .then((r) => process.send!(r, () => process.exit(0)))
      .catch(() => process.exit(1));
  });
}

function childScript(): string {
  const beside = join(__dirname, 'uploadChild.js');
  if (__filename.endsWith('.js') && existsSync(beside)) return beside;
  // Under ts-jest: the build in dist/ (npm test builds first).
  const built = resolve(__dirname, '..', 'dist', 'bench', 'uploadChild.js');
  if (!existsSync(built)) throw new Error(`${built} does not exist: build first (npx tsc -p tsconfig.json)`);
  return built;
}

/** Runs one job in a fresh process and returns what it measured. */
export function runUploadChild(job: UploadJob, timeoutMs = 30 * 60_000): Promise<UploadChildResult> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(childScript(), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answer: UploadChildResult | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('message', (m: UploadChildResult) => (answer = m));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (answer) resolvePromise(answer);
      else resolvePromise({ ok: false, error: `the upload process exited (${signal ?? code}) without a result` });
    });
    child.send(job);
  });
}
