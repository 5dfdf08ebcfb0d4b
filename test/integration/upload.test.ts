import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlobSASPermissions,
  BlobServiceClient,
  BlockBlobClient,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlobClient,
  type ContainerClient,
} from '@azure/storage-blob';
import { SourceBlobError, UploadError } from '../../lib/errors';
import { STORAGE_RETRY } from '../../lib/storage';
import { blockIds, fixUploadUrl, uploadZip } from '../../lib/upload';
import { DEV_ACCOUNT, DEV_ACCOUNT_KEY, INGEST_ACCOUNT, connectionStringFor } from '../../sandbox/azurite';
import { freshContainer, testStorage } from '../helpers/azurite';
import { SEED_IDS, fetchToken, startEmulator, type RunningEmulator } from '../../sandbox/emulator';

const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------
// A pass-through HTTP proxy in front of Azurite: it watches what the uploader really sends
// (blocks in flight, body sizes) and can play a destination that refuses Put Block From URL.

interface Seen {
  method: string;
  url: string;
  copySource: boolean;
  contentLength: number;
}

interface Proxy {
  port: number;
  seen: Seen[];
  maxBlocksInFlight: number;
  /** Runs before a request is forwarded; an answer returned here replaces Azurite's. */
  before?: (req: IncomingMessage) => Promise<{ status: number; code: string } | void>;
  close(): Promise<void>;
}

async function startProxy(): Promise<Proxy> {
  const blobPort = testStorage().ports[0]!;
  let inFlight = 0;
  const proxy: Proxy = { port: 0, seen: [], maxBlocksInFlight: 0, close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const isBlock = req.method === 'PUT' && /[?&]comp=block(&|$)/.test(req.url ?? '');
      proxy.seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        copySource: !!req.headers['x-ms-copy-source'],
        contentLength: Number(req.headers['content-length'] ?? 0),
      });
      const override = await proxy.before?.(req);
      if (override) {
        req.resume();
        const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${override.code}</Code><Message>refused by the test</Message></Error>`;
        res.writeHead(override.status, {
          'content-type': 'application/xml',
          'x-ms-error-code': override.code,
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
        return;
      }
      if (isBlock) proxy.maxBlocksInFlight = Math.max(proxy.maxBlocksInFlight, ++inFlight);
      const upstream = httpRequest(
        // Azurite reads a copy source from itself only when the source host is the one it was called on.
        {
          host: '127.0.0.1',
          port: blobPort,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: `127.0.0.1:${blobPort}` },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', () => {
            if (isBlock) inFlight--;
          });
        },
      );
      upstream.on('error', () => {
        if (isBlock) inFlight--;
        res.destroy();
      });
      req.pipe(upstream);
    })();
  });
  // Idle connections outlive the SDK's retry waits (6 s at most), as storage's do: Node's default
  // of 5 s would let a retry meet a socket the proxy just closed (EPIPE) instead of the proxy.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.close = () => new Promise((resolve) => server.close(() => resolve()));
  return proxy;
}

// ---------------------------------------------------------------------------

interface Zip {
  blob: BlobClient;
  etag: string;
  md5: string;
  size: number;
}

async function makeZip(container: ContainerClient, size: number, name = 'package.zip'): Promise<Zip> {
  const data = randomBytes(size);
  const blob = container.getBlockBlobClient(name);
  const up = await blob.uploadData(data, { blockSize: 4 * MiB });
  return { blob, etag: up.etag!, md5: createHash('md5').update(data).digest('hex'), size };
}

/** The same blob addressed through the proxy (shared-key signatures cover the path, not the host). */
function viaProxy(zip: Zip, proxy: Proxy): BlobClient {
  const cs = connectionStringFor(DEV_ACCOUNT, DEV_ACCOUNT_KEY, { blob: proxy.port, queue: 1, table: 1 });
  return BlobServiceClient.fromConnectionString(cs)
    .getContainerClient(zip.blob.containerName)
    .getBlobClient(zip.blob.name);
}

interface Destination {
  /** As the Store hands it out: a SAS whose signature has a literal '+'. */
  rawUrl: string;
  blob: BlockBlobClient;
}

/**
 * A SAS URL into the ingestion account shaped like the Store's: percent-encoded except for a
 * literal '+' in the signature. Signatures are base64, so a few expiry times find one with a '+'.
 */
async function storeUploadUrl(
  options: { port?: number; permissions?: string; expiresOn?: Date } = {},
): Promise<Destination> {
  const { ingestConnectionString, ingestKey, ports } = testStorage();
  const service = BlobServiceClient.fromConnectionString(ingestConnectionString);
  const container = service.getContainerClient(`ingestion-${randomBytes(6).toString('hex')}`);
  await container.create();
  const blob = container.getBlockBlobClient(`${randomBytes(8).toString('hex')}`);
  const credential = new StorageSharedKeyCredential(INGEST_ACCOUNT, ingestKey);
  const base = `http://127.0.0.1:${options.port ?? ports[0]}/${INGEST_ACCOUNT}/${container.containerName}/${blob.name}`;
  for (let i = 0; i < 200; i++) {
    const query = generateBlobSASQueryParameters(
      {
        containerName: container.containerName,
        blobName: blob.name,
        permissions: BlobSASPermissions.parse(options.permissions ?? 'rw'),
        expiresOn: options.expiresOn ?? new Date(Date.now() + 3600_000 + i * 1000),
        version: '2017-04-17',
      },
      credential,
    ).toString();
    const sig = decodeURIComponent(/sig=([^&]*)/.exec(query)![1]!);
    if (!sig.includes('+')) continue;
    const rawUrl = `${base}?${query.replace(/sig=[^&]*/, `sig=${encodeURIComponent(sig).replace(/%2B/g, '+')}`)}`;
    return { rawUrl, blob };
  }
  throw new Error('no signature with a + in 200 tries');
}

/**
 * An answer for `proxy.before` given only once the request's body has been read: answering
 * earlier lets the client see a reset connection instead of the status, which tells another story.
 */
async function refuseAfterBody(
  req: IncomingMessage,
  status: number,
  code: string,
): Promise<{ status: number; code: string }> {
  for await (const _chunk of req) {
    // drained
  }
  return { status, code };
}

/** The block id a Put Block request names, or undefined for any other request. */
function blockIdOf(url: string | undefined): string | undefined {
  const query = new URL(url ?? '', 'http://x').searchParams;
  return query.get('comp') === 'block' ? (query.get('blockid') ?? undefined) : undefined;
}

async function md5Of(blob: BlockBlobClient): Promise<string> {
  const hash = createHash('md5');
  const body = (await blob.download()).readableStreamBody!;
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

let proxy: Proxy;
beforeEach(async () => {
  proxy = await startProxy();
});
afterEach(async () => {
  await proxy.close();
});

describe('fixUploadUrl', () => {
  it('is needed: storage refuses the raw URL, and accepts the fixed one', async () => {
    const dest = await storeUploadUrl();
    const id = Buffer.from('probe-000000').toString('base64');
    await expect(new BlockBlobClient(dest.rawUrl).stageBlock(id, Buffer.alloc(4), 4)).rejects.toMatchObject({
      statusCode: 403,
    });
    await expect(
      new BlockBlobClient(fixUploadUrl(dest.rawUrl)).stageBlock(id, Buffer.alloc(4), 4),
    ).resolves.toBeDefined();
  });
});

describe('uploadZip, streamed', () => {
  it('copies the zip byte for byte in bounded blocks, with at most `concurrency` in flight', async () => {
    const zip = await makeZip(await freshContainer('up'), 5 * MiB + 123);
    const dest = await storeUploadUrl({ port: proxy.port });
    const progress: number[] = [];
    const result = await uploadZip({
      source: zip.blob,
      sourceEtag: zip.etag,
      destinationUrl: dest.rawUrl,
      blockSizeBytes: MiB,
      concurrency: 2,
      method: 'stream',
      onProgress: (done, total) => {
        expect(total).toBe(zip.size);
        progress.push(done);
      },
    });
    expect(result).toMatchObject({ bytes: zip.size, blocks: 6, method: 'stream' });
    expect(await md5Of(dest.blob)).toBe(zip.md5);
    expect(progress[progress.length - 1]).toBe(zip.size);

    const blockPuts = proxy.seen.filter((s) => s.method === 'PUT' && /comp=block(&|$)/.test(s.url));
    expect(blockPuts).toHaveLength(6);
    expect(Math.max(...blockPuts.map((s) => s.contentLength))).toBe(MiB);
    expect(proxy.maxBlocksInFlight).toBe(2);
    // No single-shot Put Blob, ever.
    expect(proxy.seen.some((s) => s.method === 'PUT' && !/comp=(block|blocklist)/.test(s.url))).toBe(false);

    const list = await dest.blob.getBlockList('committed');
    expect(list.committedBlocks?.map((b) => b.name)).toEqual(blockIds(zip.etag, MiB, 6));
  });

  it('survives a transient destination failure on a block', async () => {
    const zip = await makeZip(await freshContainer('up'), 2 * MiB);
    const dest = await storeUploadUrl({ port: proxy.port });
    let failed = 0;
    proxy.before = async (req) => {
      if (req.method === 'PUT' && /comp=block(&|$)/.test(req.url ?? '') && failed < 1) {
        failed++;
        return { status: 503, code: 'ServerBusy' };
      }
    };
    const result = await uploadZip({
      source: zip.blob,
      sourceEtag: zip.etag,
      destinationUrl: dest.rawUrl,
      blockSizeBytes: MiB,
      method: 'stream',
    });
    expect(failed).toBe(1);
    expect(result.blocks).toBe(2);
    expect(await md5Of(dest.blob)).toBe(zip.md5);
  });

  it("gives a block the storage SDK's tries and no more, then fails retriable for the durable step", async () => {
    const zip = await makeZip(await freshContainer('up'), 3 * MiB);
    const dest = await storeUploadUrl({ port: proxy.port });
    const second = blockIds(zip.etag, MiB, 3)[1]!;
    proxy.before = async (req) => (blockIdOf(req.url) === second ? refuseAfterBody(req, 503, 'ServerBusy') : undefined);
    const err = await uploadZip({
      source: zip.blob,
      sourceEtag: zip.etag,
      destinationUrl: dest.rawUrl,
      blockSizeBytes: MiB,
      concurrency: 1,
      method: 'stream',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadError);
    expect(err).toMatchObject({ code: 'UploadFailed', retriable: true, status: 503 });
    // One layer inside the activity: the SDK's policy (lib/storage.ts), not a loop of our own on top of it.
    expect(proxy.seen.filter((s) => blockIdOf(s.url) === second)).toHaveLength(STORAGE_RETRY.maxTries!);
    expect(proxy.seen.some((s) => /comp=blocklist/.test(s.url) && s.method === 'PUT')).toBe(false);
  });

  it('resumes: run again after a failure, it sends only the blocks the failed attempt did not stage', async () => {
    const zip = await makeZip(await freshContainer('up'), 5 * MiB + 3);
    const dest = await storeUploadUrl({ port: proxy.port });
    const ids = blockIds(zip.etag, MiB, 6);
    const options = {
      source: zip.blob,
      sourceEtag: zip.etag,
      destinationUrl: dest.rawUrl,
      blockSizeBytes: MiB,
      concurrency: 1,
      method: 'stream' as const,
    };
    // The fourth block is refused for good on the first attempt: three are staged, nothing is committed.
    proxy.before = async (req) =>
      blockIdOf(req.url) === ids[3] ? refuseAfterBody(req, 400, 'InvalidHeaderValue') : undefined;
    await expect(uploadZip(options)).rejects.toMatchObject({ code: 'UploadRejected', retriable: false });
    expect((await dest.blob.getBlockList('uncommitted')).uncommittedBlocks?.map((b) => b.name)).toEqual(
      ids.slice(0, 3),
    );

    proxy.before = undefined;
    proxy.seen.length = 0;
    const result = await uploadZip(options);
    expect(result).toMatchObject({ blocks: 6, resumedBlocks: 3, bytes: zip.size });
    expect(proxy.seen.filter((s) => s.method === 'PUT' && blockIdOf(s.url)).map((s) => blockIdOf(s.url))).toEqual(
      ids.slice(3),
    );
    expect(await md5Of(dest.blob)).toBe(zip.md5);
  });

  it('stops beginning blocks when its slice ends: staged, not committed, complete false; the next call finishes', async () => {
    const zip = await makeZip(await freshContainer('up'), 5 * MiB + 7);
    const dest = await storeUploadUrl({ port: proxy.port });
    const ids = blockIds(zip.etag, MiB, 6);
    const slice = new AbortController();
    // The slice ends while the second block is on its way: that block finishes, no third one begins.
    proxy.before = async (req) => {
      if (blockIdOf(req.url) === ids[1]) slice.abort();
    };
    const options = {
      source: zip.blob,
      sourceEtag: zip.etag,
      destinationUrl: dest.rawUrl,
      blockSizeBytes: MiB,
      concurrency: 1,
      method: 'stream' as const,
    };
    const first = await uploadZip({ ...options, sliceSignal: slice.signal });
    expect(first).toMatchObject({ complete: false, stagedBlocks: 2, resumedBlocks: 0, blocks: 6 });
    expect(proxy.seen.some((s) => /comp=blocklist/.test(s.url) && s.method === 'PUT')).toBe(false);
    expect((await dest.blob.getBlockList('uncommitted')).uncommittedBlocks?.map((b) => b.name)).toEqual(
      ids.slice(0, 2),
    );

    proxy.before = undefined;
    proxy.seen.length = 0;
    const second = await uploadZip({ ...options, sliceSignal: new AbortController().signal });
    expect(second).toMatchObject({ complete: true, stagedBlocks: 4, resumedBlocks: 2, blocks: 6 });
    expect(proxy.seen.filter((s) => blockIdOf(s.url)).map((s) => blockIdOf(s.url))).toEqual(ids.slice(2));
    expect(await md5Of(dest.blob)).toBe(zip.md5);
  });

  it('fails with BlobChanged when the zip is replaced mid-upload, and sends no commit', async () => {
    const container = await freshContainer('up');
    const zip = await makeZip(container, 3 * MiB);
    const dest = await storeUploadUrl();
    let reads = 0;
    proxy.before = async (req) => {
      // Replace the zip just before the second ranged read reaches storage.
      if (req.method === 'GET' && ++reads === 2) await container.getBlockBlobClient(zip.blob.name).upload('other', 5);
    };
    const err = await uploadZip({
      source: viaProxy(zip, proxy),
      sourceEtag: zip.etag,
      destinationUrl: dest.rawUrl,
      blockSizeBytes: MiB,
      concurrency: 1,
      method: 'stream',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceBlobError);
    expect(err).toMatchObject({ code: 'BlobChanged', retriable: false });
    expect(await dest.blob.exists()).toBe(false);
  });

  it.each(['stream', 'fromUrl'] as const)(
    'says the zip was deleted, not changed, when it is deleted mid-upload (%s)',
    async (method) => {
      const container = await freshContainer('up');
      const zip = await makeZip(container, 3 * MiB);
      const dest = await storeUploadUrl({ port: proxy.port });
      let seen = 0;
      proxy.before = async (req) => {
        // The second block's read (or copy) of this zip finds it gone. Only this test's requests
        // count: another test's upload cut short by a timeout may still be passing through.
        const ours = `${req.url ?? ''} ${String(req.headers['x-ms-copy-source'] ?? '')}`.includes(
          container.containerName,
        );
        const block = method === 'stream' ? req.method === 'GET' : !!req.headers['x-ms-copy-source'];
        if (ours && block && ++seen === 2) await container.getBlobClient(zip.blob.name).deleteIfExists();
      };
      const err = await uploadZip({
        source: method === 'stream' ? viaProxy(zip, proxy) : zip.blob,
        sourceEtag: zip.etag,
        destinationUrl: dest.rawUrl,
        blockSizeBytes: MiB,
        fromUrlBlockSizeBytes: MiB,
        concurrency: 1,
        method,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceBlobError);
      expect(err).toMatchObject({
        code: 'BlobNotFound',
        retriable: false,
        message: 'The zip blob was deleted while it was being uploaded; upload it again to submit it.',
      });
    },
  );

  it('fails with BlobChanged before copying anything when the ETag is already stale, and BlobNotFound when the zip is gone', async () => {
    const container = await freshContainer('up');
    const zip = await makeZip(container, 1000);
    const dest = await storeUploadUrl();
    await zip.blob.getBlockBlobClient().upload('changed', 7);
    await expect(
      uploadZip({ source: zip.blob, sourceEtag: zip.etag, destinationUrl: dest.rawUrl }),
    ).rejects.toMatchObject({ code: 'BlobChanged' });
    await expect(
      uploadZip({ source: container.getBlobClient('missing.zip'), sourceEtag: zip.etag, destinationUrl: dest.rawUrl }),
    ).rejects.toMatchObject({
      code: 'BlobNotFound',
    });
  });

  it('handles a zero-byte zip with an empty commit', async () => {
    const zip = await makeZip(await freshContainer('up'), 0);
    const dest = await storeUploadUrl();
    const result = await uploadZip({ source: zip.blob, sourceEtag: zip.etag, destinationUrl: dest.rawUrl });
    expect(result).toMatchObject({ bytes: 0, blocks: 0 });
    expect((await dest.blob.getProperties()).contentLength).toBe(0);
  });

  it('reports a refused upload URL as not retriable, without the URL or its signature', async () => {
    const zip = await makeZip(await freshContainer('up'), 1000);
    const dest = await storeUploadUrl({ permissions: 'r' });
    const err = (await uploadZip({
      source: zip.blob,
      sourceEtag: zip.etag,
      destinationUrl: dest.rawUrl,
      method: 'stream',
    }).catch((e: unknown) => e)) as UploadError;
    expect(err).toBeInstanceOf(UploadError);
    expect(err).toMatchObject({ code: 'UploadUrlRejected', retriable: false, status: 403 });
    const sig = /sig=([^&]*)/.exec(dest.rawUrl)![1]!;
    for (const text of [err.message, JSON.stringify(err.facts()), String(err.stack)]) {
      expect(text).not.toContain(sig);
      expect(text).not.toContain('sig=');
      expect(text).not.toContain(dest.blob.containerName);
    }
  });
});

describe('uploadZip, Put Block From URL', () => {
  it('copies server-side after the probe is accepted, pinned to the source version', async () => {
    const zip = await makeZip(await freshContainer('up'), 3 * MiB + 7);
    const dest = await storeUploadUrl({ port: proxy.port });
    const result = await uploadZip({
      source: zip.blob,
      sourceEtag: zip.etag,
      destinationUrl: dest.rawUrl,
      fromUrlBlockSizeBytes: MiB,
      concurrency: 3,
    });
    expect(result).toMatchObject({ bytes: zip.size, blocks: 4, method: 'fromUrl', probe: 'accepted' });
    expect(await md5Of(dest.blob)).toBe(zip.md5);
    const copies = proxy.seen.filter((s) => s.copySource);
    expect(copies).toHaveLength(5); // the probe and four blocks
    expect(proxy.seen.every((s) => s.contentLength <= MiB)).toBe(true);
  });

  it('falls back to streaming when the destination refuses the probe', async () => {
    const zip = await makeZip(await freshContainer('up'), 2 * MiB + 1);
    const dest = await storeUploadUrl({ port: proxy.port });
    // What an upload URL with an old SAS version answers to a copy-source header.
    proxy.before = async (req) =>
      req.headers['x-ms-copy-source'] ? { status: 403, code: 'AuthenticationFailed' } : undefined;
    const result = await uploadZip({
      source: zip.blob,
      sourceEtag: zip.etag,
      destinationUrl: dest.rawUrl,
      blockSizeBytes: MiB,
    });
    expect(result).toMatchObject({ method: 'stream', probe: 'refused', blocks: 3 });
    expect(proxy.seen.filter((s) => s.copySource)).toHaveLength(1);
    expect(await md5Of(dest.blob)).toBe(zip.md5);
  });

  it('does not fall back when fromUrl is forced: the refusal is the error', async () => {
    const zip = await makeZip(await freshContainer('up'), 1000);
    const dest = await storeUploadUrl({ port: proxy.port });
    proxy.before = async (req) =>
      req.headers['x-ms-copy-source'] ? { status: 403, code: 'AuthenticationFailed' } : undefined;
    await expect(
      uploadZip({ source: zip.blob, sourceEtag: zip.etag, destinationUrl: dest.rawUrl, method: 'fromUrl' }),
    ).rejects.toMatchObject({
      code: 'UploadUrlRejected',
      retriable: false,
    });
  });

  it('fails with BlobChanged when the zip is replaced between the probe and the copy', async () => {
    const container = await freshContainer('up');
    const zip = await makeZip(container, 2 * MiB);
    const dest = await storeUploadUrl({ port: proxy.port });
    let copies = 0;
    proxy.before = async (req) => {
      if (req.headers['x-ms-copy-source'] && ++copies === 2)
        await container.getBlockBlobClient(zip.blob.name).upload('other', 5);
    };
    await expect(
      uploadZip({
        source: zip.blob,
        sourceEtag: zip.etag,
        destinationUrl: dest.rawUrl,
        fromUrlBlockSizeBytes: MiB,
        concurrency: 1,
      }),
    ).rejects.toMatchObject({ name: 'SourceBlobError', code: 'BlobChanged' });
  });
});

describe('uploadZip into the emulated Store upload URL', () => {
  let emu: RunningEmulator;
  let token: string;
  beforeAll(async () => {
    emu = await startEmulator({
      ingestConnectionString: testStorage().ingestConnectionString,
      tlsDir: mkdtempSync(join(tmpdir(), 'upload-tls-')),
      config: { rateLimitEnabled: false },
    });
    token = await fetchToken(emu);
  });
  afterAll(async () => {
    await emu?.stop();
  });

  async function newUploadUrl(): Promise<string> {
    await emu.admin.reset();
    const res = await fetch(`${emu.apiBaseUrl}applications/${SEED_IDS.demoApp}/submissions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { fileUploadUrl: string }).fileUploadUrl;
  }

  async function uploaded(): Promise<number | null | undefined> {
    const state = await emu.admin.state();
    return state.submissions.find((s) => s.productId === SEED_IDS.demoApp && s.status === 'PendingCommit')?.upload
      ?.size;
  }

  /** A zip of 1 MiB + 5 bytes uploaded to a new submission's URL signed with that SAS version, in 512 KiB blocks. */
  async function uploadAtSasVersion(
    uploadSasVersion: string,
  ): Promise<{ url: string; size: number; result: Awaited<ReturnType<typeof uploadZip>> }> {
    await emu.admin.configure({ uploadSasVersion });
    const url = await newUploadUrl();
    const zip = await makeZip(await freshContainer('up'), MiB + 5);
    const result = await uploadZip({
      source: zip.blob,
      sourceEtag: zip.etag,
      destinationUrl: url,
      blockSizeBytes: 512 * 1024,
      fromUrlBlockSizeBytes: 512 * 1024,
    });
    return { url, size: zip.size, result };
  }

  it('falls back to streaming when the URL has an old SAS version that refuses Put Block From URL', async () => {
    const { url, size, result } = await uploadAtSasVersion('2017-04-17');
    expect(url).toMatch(/sig=[^&]*\+/);
    expect(result).toMatchObject({ method: 'stream', probe: 'refused', blocks: 3, bytes: size });
    expect(await uploaded()).toBe(size);
  });

  it('copies server-side when the SAS version of the URL accepts it', async () => {
    const { size, result } = await uploadAtSasVersion('2018-03-28');
    expect(result).toMatchObject({ method: 'fromUrl', probe: 'accepted', blocks: 3, bytes: size });
    expect(await uploaded()).toBe(size);
  });
});
