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

export interface UploadJob {
  variant: UploadVariant;
  source: { connectionString: string; container: string; blob: string; etag: string };
  destinationUrl: string;
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

async function run(job: UploadJob): Promise<UploadChildResult> {
  registerSecret(job.destinationUrl);
  const source = BlobServiceClient.fromConnectionString(job.source.connectionString)
    .getContainerClient(job.source.container)
    .getBlobClient(job.source.blob);
  // Load and warm everything the upload uses before the baseline, so it measures the upload only.
  await source.getProperties();
  const baselineRss = memoryOfSelf().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes: number;
  let result: UploadResult | undefined;
  if (job.variant.kind === 'naive') {
    const data = await source.downloadToBuffer(0, undefined, { conditions: { ifMatch: job.source.etag } });
    const destination = new BlockBlobClient(
      job.destinationUrl.replace(/\+/g, '%2B'),
      newPipeline(new AnonymousCredential()),
    );
    await destination.upload(data, data.length);
    bytes = data.length;
  } else {
    const { kind: _kind, ...options } = job.variant;
    result = await uploadZip({ source, sourceEtag: job.source.etag, destinationUrl: job.destinationUrl, ...options });
    bytes = result.bytes;
  }
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
