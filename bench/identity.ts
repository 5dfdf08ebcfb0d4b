/**
 * Benchmark 6, the package identity check: what reading a package's identity costs (the
 * pipeline does it for every package before it creates a submission), for a 2 GiB package
 * stored in the submission zip and for the same package deflated in it, side by side with
 * downloading the whole blob. A stored package is read in place (its central directory and
 * manifest by range reads); a deflated one must be inflated front to back, as a stream whose
 * memory stays bounded. Requests and bytes are counted on the wire; memory is this process's
 * peak resident size above what it was before the read.
 */
import { BlobSASPermissions, type BlobClient, type ContainerClient } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readPackageInfo } from '../lib/package/identity';
import { openBlobZip } from '../lib/zip/blobZip';
import { writeZip } from '../lib/zip/writer';
import { countingClient } from './manifest';
import { type BenchOutput, type Goal, type Log, median, MiB, round, sizeLabel, table } from './table';
import { BENCH_IDENTITY, BENCH_PACKAGE, benchManifest, benchPackageEntry, putFile } from './zips';

export interface IdentityBenchOptions {
  container: ContainerClient;
  /** The package's size (the issue: 2 GiB). */
  size: number;
  repeats?: number;
  workDir: string;
  smoke?: boolean;
  log?: Log;
}

/** Samples this process's resident size while `work` runs; answers the peak above the start. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ value: T; peakMiB: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, peakMiB: (peak - start) / MiB };
  } finally {
    clearInterval(timer);
  }
}

async function writeVariant(path: string, size: number, deflated: boolean): Promise<number> {
  const { bytes } = await writeZip(
    [
      await benchPackageEntry(BENCH_PACKAGE, size, '2.0.0.0', BENCH_IDENTITY, deflated),
      { name: 'submission.json', data: benchManifest(), compress: true },
    ],
    createWriteStream(path, { highWaterMark: 4 * MiB }),
  );
  return bytes;
}

export async function benchIdentity(o: IdentityBenchOptions): Promise<BenchOutput> {
  const log = o.log ?? (() => undefined);
  const repeats = o.repeats ?? (o.smoke ? 1 : 3);
  const t = table('identity', `Package identity check: a ${sizeLabel(o.size)} package in the submission zip`, [
    'package in the zip',
    'zip size',
    'method',
    'ms',
    'requests',
    'bytes read',
    '% of zip',
    'passes',
    'bytes inflated',
    'peak RSS Δ MiB',
    'identity ok',
  ]);
  const goals: Goal[] = [];
  await o.container.createIfNotExists();
  for (const deflated of [false, true]) {
    const label = deflated ? 'deflated' : 'stored';
    const path = join(o.workDir, `identity-${label}-${randomBytes(3).toString('hex')}.zip`);
    const blobName = `identity/${label}.zip`;
    log(`[identity] writing the ${label} zip (${sizeLabel(o.size)} package)...`);
    const zipBytes = await writeVariant(path, o.size, deflated);
    const etag = await putFile(o.container, blobName, path);
    rmSync(path, { force: true });
    const url = await o.container.getBlobClient(blobName).generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() + 3600_000),
    });
    const row = (
      method: string,
      ms: number[],
      wire: { requests: number; bytes: number },
      extra: Array<number | boolean | null>,
    ): void => {
      t.rows.push([
        label,
        zipBytes,
        method,
        round(median(ms), 0),
        wire.requests,
        wire.bytes,
        round((wire.bytes / zipBytes) * 100, 3),
        ...extra,
      ]);
    };

    // Ours: open the zip, read the package's identity.
    const times: number[] = [];
    let wire = { requests: 0, bytes: 0 };
    let facts = { passes: 0, inflated: 0, peak: 0, ok: false };
    for (let i = 0; i < repeats; i++) {
      const c = countingClient(url);
      const t0 = performance.now();
      const { value, peakMiB } = await peakRss(async () => {
        const zip = await openBlobZip(c.blob, etag);
        return readPackageInfo(zip, BENCH_PACKAGE);
      });
      times.push(performance.now() - t0);
      wire = c.wire;
      facts = {
        passes: value.read.passes,
        inflated: value.read.inflatedBytes,
        peak: Math.max(facts.peak, peakMiB),
        ok: value.identity.name === BENCH_IDENTITY.name && value.identity.version === '2.0.0.0',
      };
      log(
        `[identity] ${label}: ${(performance.now() - t0).toFixed(0)} ms, ${c.wire.requests} requests, ${c.wire.bytes} bytes`,
      );
    }
    row('ours: readPackageInfo', times, wire, [facts.passes, facts.inflated, round(facts.peak, 1), facts.ok]);
    if (!o.smoke) {
      goals.push(
        deflated
          ? {
              benchmark: 'identity',
              goal: `deflated ${sizeLabel(o.size)} package: memory bounded (peak RSS Δ < 128 MiB), one pass`,
              measured: `${round(facts.peak, 1)} MiB, ${facts.passes} pass(es), ${round(median(times) / 1000, 1)} s`,
              met: facts.peak < 128 && facts.passes === 1,
              limit:
                "inflating is front to back: its time is the whole package's inflate time (lib/zip/entrySource.ts)",
            }
          : {
              benchmark: 'identity',
              goal: `stored ${sizeLabel(o.size)} package: read in place, under 1 MiB from the blob`,
              measured: `${wire.requests} requests, ${round(wire.bytes / 1024, 1)} KiB`,
              met: wire.bytes < MiB,
            },
      );
    }

    // Reference: what a reader without range reads would do, fetch everything.
    const c = countingClient(url);
    const t0 = performance.now();
    const whole = await peakRss(() => drain(c.blob, etag));
    row('whole blob: one GET of everything', [performance.now() - t0], c.wire, [
      null,
      null,
      round(whole.peakMiB, 1),
      null,
    ]);
    await o.container.getBlobClient(blobName).deleteIfExists();
  }
  t.notes.push(
    'The package is a real MSIX (manifest, block map and content types at its end, a random payload before them), at version 2.0.0.0 of the demo app.',
    'Stored: the package is one range of the zip, so its end-of-directory, central directory and manifest are range reads. Deflated: the package is inflated as a stream, keeping a 16 MiB window at its end; "passes" counts how often it was inflated.',
    'Requests and bytes counted on the wire (response Content-Length); ms = median of the runs; peak RSS Δ = this process, sampled every 20 ms.',
  );
  return { tables: [t], goals };
}

async function drain(blob: BlobClient, etag: string): Promise<number> {
  const res = await blob.download(0, undefined, { conditions: { ifMatch: etag } });
  let n = 0;
  for await (const chunk of res.readableStreamBody!) n += (chunk as Buffer).length;
  return n;
}
