import { BlobServiceClient, BlockBlobClient } from '@azure/storage-blob';
import { SEED_IDS, fetchToken } from '../../../sandbox/emulator';
import { testStorage } from '../../helpers/azurite';
import { fixedUploadUrl, emulatorPerFile } from './harness';

const APP = SEED_IDS.demoApp;

describe('Store API emulator: injected HTTP faults and the admin API', () => {
  const the = emulatorPerFile();

  it('answers a given status, body and headers the given number of times', async () => {
    await the.emulator.admin.fault({
      match: { method: 'GET', path: 'applications/*' },
      times: 2,
      status: 503,
      body: { code: 'ServiceUnavailable', message: 'try later' },
      headers: { 'Retry-After': '7' },
    });
    for (let i = 0; i < 2; i++) {
      const res = await the.api.get(`applications/${APP}`);
      expect([res.status, res.body, res.headers.get('retry-after')]).toEqual([
        503,
        { code: 'ServiceUnavailable', message: 'try later' },
        '7',
      ]);
      expect(res.headers.get('ms-correlationid')).toBeTruthy();
    }
    expect((await the.api.get(`applications/${APP}`)).status).toBe(200);
    expect(await the.emulator.admin.faults()).toEqual([]);

    // `*` stands for one path segment: neither the list call nor deeper paths match.
    await the.emulator.admin.fault({ match: { path: 'applications/*' }, times: 'always', status: 500 });
    expect((await the.api.get('applications')).status).toBe(200);
    expect((await the.api.get(`applications/${APP}/listflights`)).status).toBe(200);
    expect((await the.api.get(`Applications/${APP.toLowerCase()}`)).status).toBe(500);
  });

  it('matches a method and a /regex/ on the path, and lists and clears faults', async () => {
    const fault = await the.emulator.admin.fault({
      match: { method: 'POST', path: '/submissions/\\d+/commit$/' },
      times: 'always',
      status: 500,
      body: { code: 'UnknownInternalFailure' },
    });
    expect(await the.emulator.admin.faults()).toEqual([
      expect.objectContaining({ id: fault.id, remaining: 'always', fired: 0 }),
    ]);
    const sub = (await the.api.post(`applications/${APP}/submissions`)).body;
    expect((await the.api.get(`applications/${APP}/submissions/${sub.id}`)).status).toBe(200);
    expect((await the.api.post(`applications/${APP}/submissions/${sub.id}/commit`)).status).toBe(500);
    expect((await the.api.post(`applications/${APP}/submissions/${sub.id}/COMMIT`)).status).toBe(500);
    expect((await the.emulator.admin.faults())[0]?.fired).toBe(2);
    await the.emulator.admin.clearFaults();
    expect((await the.api.post(`applications/${APP}/submissions/${sub.id}/commit`)).status).toBe(202);
    await expect(the.emulator.admin.fault({ match: { path: 'x' } })).rejects.toThrow(/exactly one of/);
  });

  it('hangs until the client gives up', async () => {
    await the.emulator.admin.fault({ match: { path: 'applications' }, hang: true });
    const outcome = await fetch(`${the.emulator.apiBaseUrl}applications`, {
      headers: { Authorization: `Bearer ${the.api.token}` },
      signal: AbortSignal.timeout(300),
    }).then(
      (r) => `answered ${r.status}`,
      (e: Error) => e.name,
    );
    expect(outcome).toBe('TimeoutError');
    expect((await the.api.get('applications')).status).toBe(200);
    const hung = (await the.emulator.admin.state()).requests[0];
    expect(hung).toMatchObject({ path: '/v1.0/my/applications', status: 0, fault: expect.any(String) });
  });

  it('drops the connection', async () => {
    await the.emulator.admin.fault({ match: { method: 'GET', path: 'applications' }, drop: true });
    const outcome = await fetch(`${the.emulator.apiBaseUrl}applications`, {
      headers: { Authorization: `Bearer ${the.api.token}` },
    }).then(
      (r) => `answered ${r.status}`,
      (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message,
    );
    expect(outcome).toMatch(/UND_ERR_SOCKET|ECONNRESET|other side closed/);
    expect((await the.api.get('applications')).status).toBe(200);
  });

  it('performs the operation and then answers with the fault: a 503 on create that did create (retry gives 409)', async () => {
    await the.emulator.admin.fault({
      match: { method: 'POST', path: 'applications/*/submissions' },
      after: true,
      status: 503,
      body: {
        code: 'InvalidOperation',
        data: [],
        details: [],
        message: 'Please retry using exponential backoff',
        source: 'Ingestion Api',
        target: 'submission',
      },
    });
    const first = await the.api.post(`applications/${APP}/submissions`);
    expect(first.status).toBe(503);
    const app = (await the.api.get(`applications/${APP}`)).body;
    expect(app.pendingApplicationSubmission?.id).toMatch(/^\d{19}$/);
    const retry = await the.api.post(`applications/${APP}/submissions`);
    expect([retry.status, retry.body.code]).toEqual([409, 'InvalidState']);
  });

  it('applies faults to the token endpoint and the upload proxy too', async () => {
    await the.emulator.admin.fault({
      match: { server: 'token', path: '*/oauth2/v2.0/token' },
      status: 500,
      body: { error: 'temporarily_unavailable' },
    });
    await expect(fetchToken(the.emulator)).rejects.toThrow(/500/);
    await expect(fetchToken(the.emulator)).resolves.toEqual(expect.any(String));

    const sub = (await the.api.post(`applications/${APP}/submissions`)).body;
    const client = new BlockBlobClient(fixedUploadUrl(sub.fileUploadUrl), undefined, { retryOptions: { maxTries: 1 } });
    // The upload really lands, then the client is told 503.
    await the.emulator.admin.fault({
      match: { server: 'upload', method: 'PUT', path: 'storeingest/ingestion/*' },
      after: true,
      status: 503,
      body: '',
    });
    await expect(client.upload(Buffer.from('zip'), 3)).rejects.toMatchObject({ statusCode: 503 });
    const landed = BlobServiceClient.fromConnectionString(testStorage().ingestConnectionString)
      .getContainerClient('ingestion')
      .getBlobClient(client.name);
    expect((await landed.downloadToBuffer()).toString()).toBe('zip');
    await the.emulator.admin.fault({ match: { server: 'upload' }, drop: true });
    await expect(client.upload(Buffer.from('zip'), 3)).rejects.toThrow();
  });

  it('shows products, submissions and the request log in the state, without query strings', async () => {
    const sub = (await the.api.post(`applications/${APP}/submissions`)).body;
    await fetch(fixedUploadUrl(sub.fileUploadUrl), {
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob' },
      body: 'zip',
    });
    await the.api.get('applications?top=1');
    const state = await the.emulator.admin.state();
    expect(state.applications.map((a) => a.id)).toContain(APP);
    expect(state.inAppProducts.map((a) => a.id)).toEqual([SEED_IDS.demoAddOn]);
    const mine = state.submissions.find((s) => s.id === sub.id);
    expect(mine).toMatchObject({
      kind: 'application',
      productId: APP,
      status: 'PendingCommit',
      createdIn: 'API',
      upload: { exists: true, size: 3 },
    });
    expect(mine?.files).toHaveLength(5);
    const log = state.requests.map((r) => [r.server, r.method, r.path, r.status]);
    expect(log).toEqual([
      ['api', 'POST', `/v1.0/my/applications/${APP}/submissions`, 201],
      ['upload', 'PUT', `/storeingest/ingestion/${mine?.upload?.blobName}`, 201],
      ['api', 'GET', '/v1.0/my/applications', 200],
    ]);
    for (const r of state.requests) expect(r.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(state)).not.toContain('sig=');
  });

  it('lists every secret it handed out', async () => {
    const token = await fetchToken(the.emulator);
    const sub = (await the.api.post(`applications/${APP}/submissions`)).body;
    const sig = new URLSearchParams(fixedUploadUrl(sub.fileUploadUrl).split('?')[1]).get('sig') as string;
    const secrets = await the.emulator.admin.secrets();
    expect(secrets.clientSecret).toBe(the.emulator.clientSecret);
    expect(secrets.accessTokens).toEqual(expect.arrayContaining([token, the.api.token]));
    expect(secrets.sasSignatures).toContain(sig);
    expect(secrets.all).toEqual(
      expect.arrayContaining([the.emulator.clientSecret, token, sig, encodeURIComponent(sig)]),
    );
  });

  it('refuses bad config and reports the running one', async () => {
    await expect(the.emulator.admin.configure({ certificationMs: -1 })).rejects.toThrow(/non-negative/);
    await expect(the.emulator.admin.configure({ nope: 1 } as never)).rejects.toThrow(/unknown config key/);
    const config = await the.emulator.admin.configure({ releaseMs: 25 });
    expect(config.releaseMs).toBe(25);
    expect((await the.emulator.admin.config()).releaseMs).toBe(25);
  });
});
