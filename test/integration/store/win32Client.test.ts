/**
 * The MSI/EXE API client against the emulator over real HTTP, with tokens for its own scope from
 * the emulator's HTTPS token endpoint through @azure/identity (secret, certificate, federated).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import type { Config } from '../../../lib/config';
import { checkCredential, storeCredential } from '../../../lib/store/credential';
import type { StoreCallLog } from '../../../lib/store/policies';
import { SUBMISSION_IN_PROGRESS, Win32StoreClient, type Win32ClientOptions } from '../../../lib/store/win32Client';
import {
  STORE_SCOPE,
  WIN32_SCOPE,
  WIN32_SEED_IDS,
  startEmulator,
  type RunningEmulator,
} from '../../../sandbox/emulator';
import { freshContainer, testStorage } from '../../helpers/azurite';
import { eventually } from '../../helpers/eventually';
import { emulatorStoreConfig, storeRejection } from '../../helpers/storeClients';
import { msiOf } from '../../helpers/files';
import { FAST_WIN32, hostedInstaller, msiPackage } from '../../sandbox/emulator/win32Harness';

let emu: RunningEmulator;
let ca: string;
let container: ContainerClient;
const MSI = WIN32_SEED_IDS.msiApp;

beforeAll(async () => {
  emu = await startEmulator({
    ingestConnectionString: testStorage().ingestConnectionString,
    tlsDir: mkdtempSync(join(tmpdir(), 'win32-client-tls-')),
    config: { rateLimitEnabled: false },
    win32: { config: FAST_WIN32 },
  });
  ca = readFileSync(emu.caCertPath, 'utf8');
  container = await freshContainer('w32c');
});

afterAll(async () => {
  await emu?.stop();
  await container?.deleteIfExists();
});

beforeEach(() => emu.admin.reset());

function storeConfig(overrides: Partial<Config['store']> = {}): Config['store'] {
  return emulatorStoreConfig(emu, overrides);
}

function harness(options: Partial<Win32ClientOptions> = {}): { client: Win32StoreClient; lines: StoreCallLog[] } {
  const lines: StoreCallLog[] = [];
  const client = new Win32StoreClient({
    baseUrl: emu.win32.apiBaseUrl,
    sellerId: emu.win32.sellerId,
    credential: storeCredential(storeConfig(), { caCertificates: ca }),
    scope: WIN32_SCOPE,
    timeoutMs: 2000,
    retryDelayMs: 20,
    maxRetryDelayMs: 3000,
    logger: (line) => lines.push(line),
    ...options,
  });
  return { client, lines };
}

async function untilReady(
  client: Win32StoreClient,
  productId: string,
): Promise<Awaited<ReturnType<Win32StoreClient['getModuleStatus']>>> {
  return eventually(`${productId} ready or refused`, async () => {
    const status = await client.getModuleStatus(productId);
    return status.value.isReady || status.errors.some((e) => e.code === 'packageuploaderror') ? status : undefined;
  });
}

describe('Win32StoreClient', () => {
  it('reads the draft with the seller header and the X-Correlation-ID of every answer', async () => {
    const { client, lines } = harness();
    const status = await client.getModuleStatus(MSI);
    expect(status.value).toEqual({ isReady: true, ongoingSubmissionId: '' });
    expect(status.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const packages = await client.getPackages(MSI);
    expect(packages.value[0]).toMatchObject({ packageType: 'msi', architectures: ['X64'] });
    const metadata = await client.getMetadata(MSI, {
      module: 'listings',
      languages: ['de-de'],
      includeLanguageList: true,
    });
    expect(metadata.value.listings?.map((l) => l.language)).toEqual(['de-de']);
    expect(metadata.value.listingLanguages).toHaveLength(2);
    const assets = await client.getListingAssets(MSI, ['en-us']);
    expect(assets.value[0]?.screenshots).toHaveLength(2);
    expect(lines.map((l) => `${l.method} ${l.path} ${l.status}`)).toEqual([
      `GET submission/v1/product/${MSI}/status 200`,
      `GET submission/v1/product/${MSI}/packages 200`,
      `GET submission/v1/product/${MSI}/metadata/listings 200`,
      `GET submission/v1/product/${MSI}/listings/assets 200`,
    ]);
    expect(lines.every((l) => l.correlationId)).toBe(true);
  });

  it('updates and commits packages; a download the Store cannot make shows as packageuploaderror, without the SAS', async () => {
    const { client, lines } = harness();
    const url = await hostedInstaller(container, 'c/1.3/ok.msi', msiOf('ok'));
    await client.updatePackages(MSI, [msiPackage(url) as never]);
    await client.commitPackages(MSI);
    expect((await untilReady(client, MSI)).errors).toEqual([]);
    expect((await client.getPackages(MSI)).value[0]?.packageUrl).toBe(url);

    const expired = await hostedInstaller(container, 'c/1.4/expired.msi', msiOf('x'), { expiresInSeconds: -60 });
    await client.updatePackages(MSI, [msiPackage(expired) as never]);
    await client.commitPackages(MSI);
    const failed = await untilReady(client, MSI);
    expect(failed.value.isReady).toBe(false);
    expect(failed.errors).toEqual([expect.objectContaining({ code: 'packageuploaderror', target: 'packages' })]);
    const text = JSON.stringify([lines, failed]);
    for (const sig of [url, expired].map((u) => /sig=([^&]+)/.exec(u)![1]!)) {
      expect(text).not.toContain(sig);
      expect(text).not.toContain(decodeURIComponent(sig));
    }
  });

  it('turns a 400 into a non-retriable error naming each problem with its target', async () => {
    const { client } = harness();
    const err = await storeRejection(
      client.updatePackages(MSI, [msiPackage('http://cdn.contoso.example/1.0/a.msi', { architectures: [] }) as never]),
    );
    expect(err).toMatchObject({ code: 'badrequest', status: 400, retriable: false });
    expect(err.storeErrors?.map((e) => e.details).join('\n')).toMatch(
      /packages: packages\[0\]\.packageUrl: Package URL should begin with https/,
    );
    expect(err.message).toMatch(/X-Correlation-ID [0-9a-f-]{36}/);
  });

  it('names the submission in progress when the Store refuses a change in a 200', async () => {
    const { client } = harness();
    const err = await storeRejection(
      client.patchMetadata(WIN32_SEED_IDS.busyApp, { listings: { language: 'en-us', whatsNew: 'x' } }),
    );
    expect(err).toMatchObject({ code: SUBMISSION_IN_PROGRESS, status: 200, retriable: false });
    expect((err as { ongoingSubmissionId?: string }).ongoingSubmissionId).toBe(WIN32_SEED_IDS.busyAppOngoingSubmission);
    expect(err.message).toContain(WIN32_SEED_IDS.busyAppOngoingSubmission);
    const submit = await storeRejection(client.submit(WIN32_SEED_IDS.busyApp));
    expect(submit.code).toBe(SUBMISSION_IN_PROGRESS);
  });

  it('submits and follows the submission status', async () => {
    const { client } = harness();
    const { value } = await client.submit(MSI);
    expect(value.submissionId).toMatch(/^\d{19}$/);
    let status = (await client.getSubmissionStatus(MSI, value.submissionId)).value;
    for (let i = 0; i < 500 && status.publishingStatus !== 'PUBLISHED'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await client.getSubmissionStatus(MSI, value.submissionId)).value;
    }
    expect(status).toEqual({ publishingStatus: 'PUBLISHED', hasFailed: false });
  });

  it('retries reads on 5xx but never a commit or a submit', async () => {
    const { client, lines } = harness();
    await emu.admin.fault({ match: { server: 'win32', method: 'GET', path: '**/status' }, status: 503, times: 2 });
    await client.getModuleStatus(MSI);
    expect(lines.map((l) => l.status)).toEqual([503, 503, 200]);
    for (const [method, path, call] of [
      ['POST', 'submission/v1/product/*/packages/commit', () => client.commitPackages(MSI)],
      ['POST', 'submission/v1/product/*/submit', () => client.submit(MSI)],
    ] as const) {
      lines.length = 0;
      await emu.admin.fault({ match: { server: 'win32', method, path }, status: 503, after: true });
      const err = await storeRejection(call());
      expect(err).toMatchObject({ status: 503, retriable: true });
      expect(lines).toHaveLength(1);
    }
  });

  it('waits out a 429 with Retry-After, whose gateway body says how long', async () => {
    const { client, lines } = harness();
    await emu.admin.fault({
      match: { server: 'win32', method: 'GET' },
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 1 seconds.' },
    });
    await client.getPackages(MSI);
    expect(lines.map((l) => l.status)).toEqual([429, 200]);
  });

  it('gets a new token after a 401, and a lasting 401 (a wrong seller id) says what to check', async () => {
    const { client, lines } = harness({ sellerId: '1' });
    const err = await storeRejection(client.getModuleStatus(MSI));
    expect(err).toMatchObject({ code: 'Unauthorized', status: 401, retriable: false });
    expect(err.message).toMatch(/STORE_SELLER_ID/);
    expect(lines.map((l) => [l.status, l.attempt])).toEqual([
      [401, 1],
      [401, 2],
    ]);
  });

  it('takes tokens for its own scope with a secret, a certificate or a federated credential', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'win32-cred-'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const selfsigned = require('selfsigned') as {
      generate(a: unknown, o: unknown): Promise<{ cert: string; private: string }>;
    };
    const pem = await selfsigned.generate([{ name: 'commonName', value: 'store-submitter-test' }], { keySize: 2048 });
    const certificatePath = join(dir, 'app.pem');
    writeFileSync(certificatePath, `${pem.private}\n${pem.cert}\n`);
    // The tenant's app registration knows only what is registered on it: the certificate, and a
    // federated credential whose issuer signs the token (as Entra ID checks a workload identity).
    await emu.admin.addCertificate(emu.clientId, pem.cert);
    const issuer = 'https://token.actions.githubusercontent.com';
    const subject = 'repo:contoso/app:ref:refs/heads/main';
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await emu.admin.addFederatedCredential(emu.clientId, {
      issuer,
      subject,
      jwks: { keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: 'w32', alg: 'RS256' }] },
    });
    const now = Math.floor(Date.now() / 1000);
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'w32' })).toString('base64url');
    const claims = Buffer.from(
      JSON.stringify({ iss: issuer, sub: subject, aud: 'api://AzureADTokenExchange', exp: now + 600, iat: now }),
    ).toString('base64url');
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), pair.privateKey).toString('base64url');
    const tokenFile = join(dir, 'federated-token');
    writeFileSync(tokenFile, `${header}.${claims}.${signature}`);
    const previous = process.env.AZURE_FEDERATED_TOKEN_FILE;
    process.env.AZURE_FEDERATED_TOKEN_FILE = tokenFile;
    try {
      for (const store of [
        storeConfig(),
        storeConfig({ credentialKind: 'certificate', clientSecret: undefined, clientCertificatePath: certificatePath }),
        storeConfig({ credentialKind: 'workloadIdentity', clientSecret: undefined }),
      ]) {
        const checked = await checkCredential(store, { caCertificates: ca }, WIN32_SCOPE);
        expect(checked.expiresOnTimestamp).toBeGreaterThan(Date.now());
        const { client } = harness({ credential: storeCredential(store, { caCertificates: ca }) });
        expect((await client.getModuleStatus(MSI)).value.isReady).toBe(true);
      }
    } finally {
      if (previous === undefined) delete process.env.AZURE_FEDERATED_TOKEN_FILE;
      else process.env.AZURE_FEDERATED_TOKEN_FILE = previous;
    }
  });

  it('is refused with a token for the v1.0 API', async () => {
    const { client } = harness({ scope: STORE_SCOPE });
    const err = await storeRejection(client.getModuleStatus(MSI));
    expect(err).toMatchObject({ code: 'Unauthorized', status: 401 });
  });
});
