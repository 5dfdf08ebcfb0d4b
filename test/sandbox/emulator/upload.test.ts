import { BlobSASPermissions, BlobServiceClient, BlockBlobClient } from '@azure/storage-blob';
import { request } from 'node:http';
import { type RunningEmulator, SEED_IDS } from '../../../sandbox/emulator';
import { freshContainer, testStorage } from '../../helpers/azurite';
import { Api, fixedUploadUrl, start } from './harness';

const MiB = 1024 * 1024;
const APP = SEED_IDS.demoApp;

interface RawResponse {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A PUT over a raw socket, so the test controls the headers and how much of the body is sent.
 * `send` writes the body; the response may come before it is done (the proxy refuses early).
 */
function rawPut(
  url: string,
  headers: Record<string, string>,
  send: (write: (chunk: Buffer) => Promise<boolean>) => Promise<void>,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method: 'PUT', headers }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text, headers: res.headers });
        req.destroy();
      });
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.flushHeaders();
    const write = (chunk: Buffer): Promise<boolean> =>
      new Promise((ok) => {
        if (answered || req.destroyed) return ok(false);
        if (req.write(chunk)) ok(true);
        else req.once('drain', () => ok(!answered));
      });
    void send(write).then(() => {
      if (!answered && !req.destroyed) req.end();
    });
  });
}

/** Sends the headers only and never ends the request: the answer must come from the headers alone. */
const headersOnly = (): Promise<void> => new Promise(() => undefined);

describe('Store API emulator: fileUploadUrl and the upload proxy', () => {
  let emulator: RunningEmulator;
  let api: Api;
  const ingest = BlobServiceClient.fromConnectionString(testStorage().ingestConnectionString).getContainerClient(
    'ingestion',
  );

  async function newUploadUrl(): Promise<string> {
    await emulator.admin.reset();
    return (await api.post(`applications/${APP}/submissions`)).body.fileUploadUrl as string;
  }

  beforeAll(async () => {
    emulator = await start();
    api = await Api.connect(emulator);
  });
  afterAll(() => emulator.stop());

  it('hands out a path-style blob SAS URL whose signature holds an unencoded +', async () => {
    const url = await newUploadUrl();
    const query = url.slice(url.indexOf('?') + 1);
    const params = Object.fromEntries(query.split('&').map((kv) => kv.split('=') as [string, string]));
    expect(params).toMatchObject({ sv: '2017-04-17', sr: 'b', sp: 'rwl' });
    expect(params.sig).toContain('+');
    expect(new URL(url).pathname).toMatch(/^\/storeingest\/ingestion\/[0-9a-f-]{36}$/);
    const expiresInHours = (Date.parse(decodeURIComponent(params.se as string)) - Date.now()) / 3600e3;
    expect(expiresInHours).toBeGreaterThan(23.9);
    expect(expiresInHours).toBeLessThanOrEqual(24);
  });

  it('takes uploads through @azure/storage-blob once + is encoded, landing in the storeingest account', async () => {
    const url = await newUploadUrl();
    const client = new BlockBlobClient(fixedUploadUrl(url));
    const content = Buffer.from('zip bytes would go here');
    const put = await client.upload(content, content.length);
    expect(put._response.status).toBe(201);
    const landed = await ingest.getBlobClient(client.name).downloadToBuffer();
    expect(landed.equals(content)).toBe(true);
    // Read back through the proxy too (Get Blob, Get Properties).
    expect((await client.getProperties()).contentLength).toBe(content.length);

    // Staged blocks and a block list, the way large files go.
    const blocks = ['YmxvY2stMQ==', 'YmxvY2stMg=='];
    await client.stageBlock(blocks[0] as string, Buffer.from('first '), 6);
    await client.stageBlock(blocks[1] as string, Buffer.from('second'), 6);
    const uncommitted = await client.getBlockList('uncommitted');
    expect(uncommitted.uncommittedBlocks?.map((b) => b.name)).toEqual(blocks);
    await client.commitBlockList(blocks);
    expect((await ingest.getBlobClient(client.name).downloadToBuffer()).toString()).toBe('first second');
  });

  it('refuses the URL when + was left unencoded, or the signature was changed, with 403 AuthenticationFailed', async () => {
    const url = await newUploadUrl();
    const unfixed = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' });
    expect(unfixed.status).toBe(403);
    expect(unfixed.headers.get('x-ms-error-code')).toBe('AuthenticationFailed');
    const text = await unfixed.text();
    expect(text).toMatch(
      /^<\?xml version="1.0" encoding="utf-8"\?><Error><Code>AuthenticationFailed<\/Code><Message>Server failed to authenticate the request/,
    );
    expect(text).toContain('<AuthenticationErrorDetail>Signature did not match');

    const tampered = fixedUploadUrl(url).replace(/sp=rwl/, 'sp=rwdl');
    expect(
      (await fetch(tampered, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' })).status,
    ).toBe(403);
    const otherBlob = fixedUploadUrl(url).replace(
      /ingestion\/[0-9a-f-]+/,
      'ingestion/00000000-0000-0000-0000-000000000000',
    );
    expect(
      (await fetch(otherBlob, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' })).status,
    ).toBe(403);
    // Delete is not among the granted permissions.
    const del = await fetch(fixedUploadUrl(url), { method: 'DELETE' });
    expect([del.status, del.headers.get('x-ms-error-code')]).toEqual([403, 'AuthorizationPermissionMismatch']);
  });

  it('refuses an expired URL', async () => {
    await emulator.admin.configure({ uploadUrlLifetimeSeconds: 1 });
    try {
      const url = fixedUploadUrl(await newUploadUrl());
      await new Promise((r) => setTimeout(r, 1100));
      const res = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('Signature not valid in the specified time frame');
    } finally {
      await emulator.admin.configure({ uploadUrlLifetimeSeconds: 24 * 3600 });
    }
  });

  it('refuses a single Put Blob over 256 MiB from its Content-Length, before any byte is sent', async () => {
    const url = fixedUploadUrl(await newUploadUrl());
    const res = await rawPut(
      url,
      { 'x-ms-blob-type': 'BlockBlob', 'Content-Length': String(256 * MiB + 1) },
      headersOnly,
    );
    expect(res.status).toBe(413);
    expect(res.headers['x-ms-error-code']).toBe('RequestBodyTooLarge');
    expect(res.text).toContain('<MaxLimit>268435456</MaxLimit>');
    expect(await ingest.getBlobClient(new URL(url).pathname.split('/').pop() as string).exists()).toBe(false);
  });

  it('refuses a streamed (chunked) Put Blob body once it passes 256 MiB, and a short chunked one for lacking a length', async () => {
    const url = fixedUploadUrl(await newUploadUrl());
    const chunk = Buffer.alloc(4 * MiB, 7);
    let sent = 0;
    const res = await rawPut(url, { 'x-ms-blob-type': 'BlockBlob', 'Transfer-Encoding': 'chunked' }, async (write) => {
      while (sent <= 300 * MiB && (await write(chunk))) sent += chunk.length;
    });
    expect(res.status).toBe(413);
    expect(res.headers['x-ms-error-code']).toBe('RequestBodyTooLarge');
    expect(sent).toBeGreaterThanOrEqual(256 * MiB);
    expect(await ingest.getBlobClient(new URL(url).pathname.split('/').pop() as string).exists()).toBe(false);

    const short = await rawPut(
      url,
      { 'x-ms-blob-type': 'BlockBlob', 'Transfer-Encoding': 'chunked' },
      async (write) => {
        await write(Buffer.from('small'));
      },
    );
    expect([short.status, short.headers['x-ms-error-code']]).toEqual([411, 'MissingContentLengthHeader']);
  });

  it('refuses a Put Block over 100 MiB and a block list of more than 50,000 blocks', async () => {
    const url = fixedUploadUrl(await newUploadUrl());
    const blockUrl = `${url}&comp=block&blockid=${encodeURIComponent('YmxvY2stMQ==')}`;
    const big = await rawPut(blockUrl, { 'Content-Length': String(100 * MiB + 1) }, headersOnly);
    expect(big.status).toBe(413);
    expect(big.text).toContain(`<MaxLimit>${100 * MiB}</MaxLimit>`);

    const ids = Array.from({ length: 50_001 }, (_, i) =>
      Buffer.from(`block-${String(i).padStart(6, '0')}`).toString('base64'),
    );
    const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`;
    const list = await fetch(`${url}&comp=blocklist`, { method: 'PUT', body: xml });
    expect(list.status).toBe(400);
    expect(list.headers.get('x-ms-error-code')).toBe('InvalidBlockList');
  });

  it('refuses Put Block From URL under an old SAS version and forwards it under 2018-03-28', async () => {
    const source = (await freshContainer('src')).getBlockBlobClient('package.msix');
    const bytes = Buffer.from('bytes copied server-side');
    await source.upload(bytes, bytes.length);
    const sourceUrl = await source.generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() + 600_000),
    });
    const blockId = Buffer.from('block-000001').toString('base64');

    const old = new BlockBlobClient(fixedUploadUrl(await newUploadUrl()));
    const refused = await old.stageBlockFromURL(blockId, sourceUrl, 0, bytes.length).then(
      () => undefined,
      (e: { statusCode?: number; code?: string }) => e,
    );
    expect(refused).toMatchObject({ statusCode: 400, code: 'UnsupportedHeader' });

    await emulator.admin.configure({ uploadSasVersion: '2018-03-28' });
    try {
      const url = await newUploadUrl();
      expect(url).toContain('sv=2018-03-28');
      const target = new BlockBlobClient(fixedUploadUrl(url));
      await target.stageBlockFromURL(blockId, sourceUrl, 0, bytes.length);
      await target.commitBlockList([blockId]);
      expect((await ingest.getBlobClient(target.name).downloadToBuffer()).equals(bytes)).toBe(true);
    } finally {
      await emulator.admin.configure({ uploadSasVersion: '2017-04-17' });
    }
  });
});
