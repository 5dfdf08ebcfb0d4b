/**
 * Incompressible submission zips for the benchmarks, written with the product's own streaming
 * zip writer (STORE, random bytes from AES-CTR, which runs at GB/s) to a local file, then
 * streamed to a blob in one PUT. Nothing holds a whole zip in memory. The local file stays for
 * the curl baseline, which uploads "the same bytes" from disk.
 */
import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeZip, type ZipWriterEntry } from '../lib/zip/writer';
import { packageEntries, type PackageSpec } from '../sandbox/packages';
import { MiB, sizeLabel } from './table';

/** The demo app of the emulator's default seed: a manifest that names it validates everywhere. */
export const BENCH_APP_ID = '9NBLGGH4R315';
/** A real package of the demo app (a version above its published 1.0.0.0), its payload random bytes. */
export const BENCH_PACKAGE = 'packages/Contoso.Demo_2.0.0.0_x64.msix';
export const BENCH_IDENTITY = { name: 'Contoso.Demo', publisher: 'CN=Contoso Ltd.' };

/**
 * Bytes a package adds around its payload: the footprint files (stored, so their size does not
 * depend on how they compress) and the zip records; it depends on the identity's text only.
 */
const packageOverhead = new Map<string, Promise<number>>();
function overheadOfPackage(spec: PackageSpec): Promise<number> {
  const key = JSON.stringify(spec);
  let overhead = packageOverhead.get(key);
  if (!overhead) {
    overhead = (async () => {
      const sink = new Writable({ write: (_c, _e, done) => done() });
      const { bytes } = await writeZip(packageEntries(spec, [payloadEntry(0)], { compress: false }), sink);
      return bytes;
    })();
    packageOverhead.set(key, overhead);
  }
  return overhead;
}

function payloadEntry(size: number): ZipWriterEntry {
  return { name: 'payload.bin', data: () => randomStream(size), size };
}

/**
 * A zip entry holding a real MSIX package of `bytes` bytes in all (at least its fixed overhead):
 * `identity` and `version` in its manifest, a random payload streamed through the package's own
 * zip writer. Packages up to 4 GiB (no zip64 records, so the size is known in advance).
 */
export async function benchPackageEntry(
  name: string,
  bytes: number,
  version = '2.0.0.0',
  identity: { name: string; publisher: string } = BENCH_IDENTITY,
  compress = false,
): Promise<ZipWriterEntry> {
  const spec: PackageSpec = { ...identity, version, architecture: 'x64' };
  const overhead = await overheadOfPackage(spec);
  const payload = Math.max(0, bytes - overhead);
  if (payload + overhead >= 0xffffffff - MiB) throw new Error('bench packages stay below 4 GiB');
  return {
    name,
    size: payload + overhead,
    compress,
    data: () => {
      const out = new PassThrough({ highWaterMark: 2 * MiB });
      writeZip(packageEntries(spec, [payloadEntry(payload)], { compress: false }), out).catch((e: unknown) =>
        out.destroy(e as Error),
      );
      return out;
    },
  };
}

export function benchManifest(applicationId = BENCH_APP_ID, packages: string[] = [BENCH_PACKAGE]): Buffer {
  return Buffer.from(
    JSON.stringify(
      {
        target: { kind: 'app', applicationId },
        submission: { applicationPackages: packages.map((fileName) => ({ fileName })) },
      },
      null,
      2,
    ),
  );
}

/** `size` pseudo-random bytes in 1 MiB chunks; each stream has its own key, so no two zips share data. */
export function randomStream(size: number): Readable {
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(MiB);
  let left = size;
  return new Readable({
    highWaterMark: 2 * MiB,
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, MiB);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

export type ZipLayout =
  /** One incompressible package, then submission.json (names in alphabetical order, as `zip -r` writes them). */
  | { kind: 'single'; size: number }
  /** `entries` files of `entryBytes` each, with submission.json in the middle of the archive. */
  | { kind: 'many'; entries: number; entryBytes: number };

async function entriesFor(layout: ZipLayout, packageBytes: number): Promise<ZipWriterEntry[]> {
  if (layout.kind === 'single') {
    return [
      await benchPackageEntry(BENCH_PACKAGE, packageBytes),
      { name: 'submission.json', data: benchManifest(), compress: true },
    ];
  }
  const others = layout.entries - 2;
  const before = Math.floor(others / 2);
  const file = (dir: string, i: number): ZipWriterEntry => ({
    name: `${dir}/file-${String(i).padStart(5, '0')}.bin`,
    data: () => randomStream(layout.entryBytes),
    size: layout.entryBytes,
  });
  return [
    ...Array.from({ length: before }, (_, i) => file('assets', i)),
    await benchPackageEntry(BENCH_PACKAGE, layout.entryBytes),
    { name: 'submission.json', data: benchManifest(), compress: true },
    ...Array.from({ length: others - before }, (_, i) => file('videos', i)),
  ];
}

/** Bytes a single-package zip adds around its package: measured by writing one with an empty package. */
async function singleOverhead(): Promise<number> {
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const entries = await entriesFor({ kind: 'single', size: 0 }, 0);
  const { bytes } = await writeZip(entries, sink);
  return bytes - (entries[0]!.size ?? 0);
}

export interface LocalZip {
  path: string;
  bytes: number;
  md5: string;
  entries: number;
}

/** Writes the zip to `path`, hashing what goes out; a single-package zip comes out exactly `size` bytes (below 4 GiB). */
export async function writeBenchZip(path: string, layout: ZipLayout): Promise<LocalZip> {
  const packageBytes = layout.kind === 'single' ? Math.max(0, layout.size - (await singleOverhead())) : 0;
  const entries = await entriesFor(layout, packageBytes);
  const hash = createHash('md5');
  const tap = new PassThrough({ highWaterMark: 4 * MiB });
  tap.on('data', (chunk: Buffer) => hash.update(chunk));
  const file = createWriteStream(path, { highWaterMark: 4 * MiB });
  const flushed = pipeline(tap, file);
  const { bytes } = await writeZip(entries, tap);
  await flushed;
  return { path, bytes, md5: hash.digest('hex'), entries: entries.length };
}

export interface SourceZip extends LocalZip {
  container: ContainerClient;
  blobName: string;
  etag: string;
  label: string;
}

/** Streams a local file to a blob in one Put Blob (fast in Azurite, and no block staging). */
export async function putFile(container: ContainerClient, blobName: string, path: string): Promise<string> {
  const size = statSync(path).size;
  const blob = container.getBlockBlobClient(blobName);
  const res = await blob.upload(() => createReadStream(path, { highWaterMark: 4 * MiB }), size, {
    blobHTTPHeaders: { blobContentType: 'application/zip' },
  });
  return res.etag!;
}

/**
 * The run's source zips: each generated once, kept (file and blob) while a benchmark needs it,
 * released when none does. Azurite in memory holds every blob in RAM, so release eagerly.
 */
export class ZipCache {
  private readonly made = new Map<string, Promise<SourceZip>>();
  readonly container: ContainerClient;

  constructor(
    connectionString: string,
    private readonly workDir: string,
    containerName = `bench-src-${randomBytes(4).toString('hex')}`,
  ) {
    this.container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(containerName);
    mkdirSync(workDir, { recursive: true });
  }

  private key(layout: ZipLayout): string {
    return layout.kind === 'single' ? `single-${layout.size}` : `many-${layout.entries}x${layout.entryBytes}`;
  }

  get(layout: ZipLayout): Promise<SourceZip> {
    const key = this.key(layout);
    let zip = this.made.get(key);
    if (!zip) {
      zip = (async () => {
        await this.container.createIfNotExists();
        const path = join(this.workDir, `${key}.zip`);
        const local = await writeBenchZip(path, layout);
        const blobName = `${key}.zip`;
        const etag = await putFile(this.container, blobName, path);
        const label =
          layout.kind === 'single'
            ? sizeLabel(layout.size)
            : `${layout.entries} entries × ${sizeLabel(layout.entryBytes)}`;
        return { ...local, container: this.container, blobName, etag, label };
      })();
      zip.catch(() => this.made.delete(key));
      this.made.set(key, zip);
    }
    return zip;
  }

  /** After Azurite restarted empty: puts every zip still held back into its blob (new ETags). */
  async reupload(): Promise<void> {
    await this.container.createIfNotExists();
    for (const zip of this.made.values()) {
      const z = await zip.catch(() => undefined);
      if (z) z.etag = await putFile(this.container, z.blobName, z.path);
    }
  }

  async release(layout: ZipLayout): Promise<void> {
    const key = this.key(layout);
    const zip = this.made.get(key);
    if (!zip) return;
    this.made.delete(key);
    const z = await zip.catch(() => undefined);
    if (!z) return;
    rmSync(z.path, { force: true });
    await this.container.getBlobClient(z.blobName).deleteIfExists();
  }

  async releaseAll(): Promise<void> {
    for (const key of [...this.made.keys()]) {
      const z = await this.made.get(key)!.catch(() => undefined);
      this.made.delete(key);
      if (z) rmSync(z.path, { force: true });
    }
    await this.container.deleteIfExists();
  }
}

/** MD5 of a blob, streamed (a verification, never timed). */
export async function blobMd5(container: ContainerClient, blobName: string): Promise<{ md5: string; bytes: number }> {
  const res = await container.getBlobClient(blobName).download(0);
  const hash = createHash('md5');
  let bytes = 0;
  for await (const chunk of res.readableStreamBody!) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { md5: hash.digest('hex'), bytes };
}
