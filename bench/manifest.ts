/**
 * Benchmark 2, reading the manifest: what readSubmissionZip (central directory + submission.json
 * by range reads) costs in requests and bytes, side by side with downloading the whole blob.
 * Requests and bytes are counted on the wire by a pipeline policy of our own, not taken from the
 * library's counters.
 */
import {
  AnonymousCredential,
  BlobClient,
  BlobSASPermissions,
  newPipeline,
  type HttpOperationResponse,
  type RequestPolicy,
  type RequestPolicyFactory,
  type WebResource,
} from '@azure/storage-blob';
import { readSubmissionZip, validateManifest } from '../lib/manifest';
import { DEFAULT_ZIP_LIMITS, openBlobZip } from '../lib/zip/blobZip';
import { BENCH_APP_ID, type ZipCache, type ZipLayout } from './zips';
import { type BenchOutput, type Goal, KiB, type Log, median, MiB, round, sizeLabel, table } from './table';

export interface ManifestBenchOptions {
  zips: ZipCache;
  /** Size of the single-package zip (the issue: 2 GiB). */
  bigSize: number;
  /** The many-entries zip (the issue: 2,000 entries). */
  many: { entries: number; entryBytes: number };
  repeats?: number;
  /** Also read with this tail prefetch instead of the library's default, to show what the constant costs. */
  tailPrefetchVariant?: number;
  /** Skip downloading the whole blob (smoke runs still do it: it is cheap at small sizes). */
  skipWhole?: boolean;
  keepZip?: (layout: ZipLayout) => boolean;
  smoke?: boolean;
  log?: Log;
}

interface Wire {
  requests: number;
  bytes: number;
}

/** A blob client whose requests and response bytes are counted on the wire. */
export function countingClient(url: string): { blob: BlobClient; wire: Wire } {
  const wire: Wire = { requests: 0, bytes: 0 };
  const pipeline = newPipeline(new AnonymousCredential());
  const counter: RequestPolicyFactory = {
    create: (next: RequestPolicy): RequestPolicy => ({
      async sendRequest(request: WebResource): Promise<HttpOperationResponse> {
        const response = await next.sendRequest(request);
        wire.requests++;
        wire.bytes += Number(response.headers.get('content-length') ?? 0);
        return response;
      },
    }),
  };
  // Last in the list = nearest the wire: retried attempts count too.
  pipeline.factories.push(counter);
  return { blob: new BlobClient(url, pipeline), wire };
}

const TOLERATED_REQUESTS = 5;

export async function benchManifest(o: ManifestBenchOptions): Promise<BenchOutput> {
  const log = o.log ?? (() => undefined);
  const repeats = o.repeats ?? 3;
  const t = table('manifest', 'Manifest read: central directory + submission.json of a zip in Azurite', [
    'zip',
    'zip size',
    'entries',
    'method',
    'requests',
    'bytes read',
    'KiB read',
    '% of zip',
    'ms',
    'manifest ok',
  ]);
  const goals: Goal[] = [];
  const layouts: Array<{ name: string; layout: ZipLayout }> = [
    { name: `one package, ${sizeLabel(o.bigSize)}`, layout: { kind: 'single', size: o.bigSize } },
    {
      name: `${o.many.entries.toLocaleString('en-US')} entries`,
      layout: { kind: 'many', entries: o.many.entries, entryBytes: o.many.entryBytes },
    },
  ];
  for (const { name, layout } of layouts) {
    const zip = await o.zips.get(layout);
    const url = await zip.container.getBlobClient(zip.blobName).generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() + 3600_000),
    });
    type Variant = { method: string; run: (blob: BlobClient) => Promise<boolean> };
    const variants: Variant[] = [
      {
        method: 'ours: readSubmissionZip (range reads)',
        run: async (blob) => {
          const r = await readSubmissionZip(blob, zip.etag);
          return r.manifest.target.kind === 'app' && r.entries.length === zip.entries;
        },
      },
      ...(o.tailPrefetchVariant
        ? [
            {
              method: `ours with a ${sizeLabel(o.tailPrefetchVariant)} tail prefetch (default ${sizeLabel(DEFAULT_ZIP_LIMITS.tailPrefetchBytes)})`,
              run: async (blob: BlobClient) => {
                const z = await openBlobZip(blob, zip.etag, { tailPrefetchBytes: o.tailPrefetchVariant });
                const bytes = await z.readEntryText('submission.json', MiB);
                return validateManifest(bytes, z.entries).target.kind === 'app' && z.entries.length === zip.entries;
              },
            },
          ]
        : []),
      ...(o.skipWhole
        ? []
        : [
            {
              method: 'whole blob: one GET of everything',
              run: async (blob: BlobClient) => {
                const res = await blob.download(0, undefined, { conditions: { ifMatch: zip.etag } });
                let n = 0;
                for await (const chunk of res.readableStreamBody!) n += (chunk as Buffer).length;
                return n === zip.bytes;
              },
            },
          ]),
    ];
    for (const v of variants) {
      const times: number[] = [];
      let wire: Wire = { requests: 0, bytes: 0 };
      let ok = true;
      for (let i = 0; i < (v.method.startsWith('whole') ? 1 : repeats); i++) {
        const c = countingClient(url);
        const t0 = performance.now();
        ok = (await v.run(c.blob)) && ok;
        times.push(performance.now() - t0);
        wire = c.wire;
      }
      t.rows.push([
        name,
        sizeLabel(zip.bytes).replace(/^(\d+) B$/, (_, b: string) => `${(Number(b) / MiB).toFixed(1)} MiB`),
        zip.entries,
        v.method,
        wire.requests,
        wire.bytes,
        round(wire.bytes / KiB, 1),
        round((wire.bytes / zip.bytes) * 100, 3),
        round(median(times), 1),
        ok,
      ]);
      log(
        `[manifest] ${name}: ${v.method}: ${wire.requests} requests, ${wire.bytes} bytes, ${median(times).toFixed(0)} ms`,
      );
      if (v.method.startsWith('ours: ') && !o.smoke) {
        goals.push({
          benchmark: 'manifest',
          goal: `${name}: under 1 MiB and a handful (≤ ${TOLERATED_REQUESTS}) of requests`,
          measured: `${wire.requests} requests, ${round(wire.bytes / KiB, 1)} KiB`,
          met: wire.bytes < MiB && wire.requests <= TOLERATED_REQUESTS,
          limit:
            wire.bytes >= MiB
              ? `the prefetches: ${sizeLabel(DEFAULT_ZIP_LIMITS.headPrefetchBytes)} from the head + ${sizeLabel(DEFAULT_ZIP_LIMITS.tailPrefetchBytes)} from the tail (lib/zip/format.ts DEFAULT_ZIP_LIMITS)`
              : undefined,
        });
      }
    }
    if (!o.keepZip?.(layout)) await o.zips.release(layout);
  }
  t.notes.push(
    'Requests and bytes counted on the wire by a pipeline policy (response Content-Length), ms = median of the runs. Every read carries If-Match (the ETag the run saw).',
    'The single-package zip has submission.json after the package (alphabetical, as `zip -r` writes it); the many-entries zip has it in the middle, outside both prefetched ends.',
    `The manifest names app ${BENCH_APP_ID} and the package; "manifest ok" = it parsed, validated against the zip's entries, and the entry count matches the writer's.`,
  );
  return { tables: [t], goals };
}
