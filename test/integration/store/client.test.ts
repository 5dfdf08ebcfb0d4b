/**
 * The Store client against the project's Store API emulator over real HTTP, with a token from
 * the emulator's HTTPS token endpoint through @azure/identity.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import type { Config } from '../../../lib/config';
import { redact } from '../../../lib/redact';
import { StoreClient, type StoreCallLog, type StoreClientOptions } from '../../../lib/store/client';
import { checkCredential, storeCredential } from '../../../lib/store/credential';
import { kindInfo, type ProductRef } from '../../../lib/store/kinds';
import type { Application, Submission } from '../../../lib/store/types';
import {
  SEED_IDS,
  defaultSeed,
  STORE_SCOPE,
  startEmulator,
  type HttpFaultSpec,
  type RunningEmulator,
} from '../../../sandbox/emulator';
import { testStorage } from '../../helpers/azurite';
import { emulatorStoreConfig, storeRejection } from '../../helpers/storeClients';
import { FAST } from '../../sandbox/emulator/harness';

let emu: RunningEmulator;
let ca: string;

const app: ProductRef = { kind: 'app', applicationId: SEED_IDS.demoApp };
const flight: ProductRef = { kind: 'flight', applicationId: SEED_IDS.demoApp, flightId: SEED_IDS.demoFlight };
const addon: ProductRef = { kind: 'addon', inAppProductId: SEED_IDS.demoAddOn };

beforeAll(async () => {
  emu = await startEmulator({
    ingestConnectionString: testStorage().ingestConnectionString,
    tlsDir: mkdtempSync(join(tmpdir(), 'store-client-tls-')),
    config: FAST,
  });
  ca = readFileSync(emu.caCertPath, 'utf8');
});

afterAll(async () => {
  await emu?.stop();
});

beforeEach(async () => {
  await emu.admin.reset();
  await emu.admin.configure({ rateLimitEnabled: false });
});

function storeConfig(overrides: Partial<Config['store']> = {}): Config['store'] {
  // Far above what a busy machine makes of a local call: only the hang tests below time out.
  return emulatorStoreConfig(emu, { requestTimeoutMs: 30_000, ...overrides });
}

interface Harness {
  client: StoreClient;
  lines: StoreCallLog[];
  /** Headers of every request as it left the process (a real HTTP client, observed). */
  sent: Array<{ method: string; url: string; contentType?: string; authorization?: string }>;
}

function harness(options: Partial<StoreClientOptions> = {}): Harness {
  const lines: StoreCallLog[] = [];
  const sent: Harness['sent'] = [];
  const real = createDefaultHttpClient();
  const httpClient: HttpClient = {
    sendRequest: (request) => {
      sent.push({
        method: request.method,
        url: request.url,
        contentType: request.headers.get('content-type'),
        authorization: request.headers.get('authorization'),
      });
      return real.sendRequest(request);
    },
  };
  const client = new StoreClient({
    baseUrl: emu.apiBaseUrl,
    credential: storeCredential(storeConfig(), { caCertificates: ca }),
    scope: STORE_SCOPE,
    timeoutMs: 30_000,
    retryDelayMs: 20,
    maxRetryDelayMs: 3000,
    logger: (line) => lines.push(line),
    httpClient,
    ...options,
  });
  return { client, lines, sent };
}

async function fault(spec: HttpFaultSpec): Promise<void> {
  await emu.admin.fault({ ...spec, match: { server: 'api', ...spec.match } });
}

async function apiRequests(method: string, pathPattern: RegExp): Promise<number> {
  const state = await emu.admin.state();
  return state.requests.filter((r) => r.server === 'api' && r.method === method && pathPattern.test(r.path)).length;
}

describe('StoreClient against the emulator', () => {
  it('reads an app, a flight and an add-on through the same code path, ids as strings', async () => {
    const { client } = harness();
    const a = await client.getProduct(app);
    expect(a.value).toMatchObject({ id: SEED_IDS.demoApp });
    const published = (a.value as Application).lastPublishedApplicationSubmission;
    expect(published?.id).toBe(SEED_IDS.demoAppPublishedSubmission);
    expect(typeof published?.id).toBe('string');
    expect(a.correlationId).toMatch(/\S/);

    const f = await client.getProduct(flight);
    expect(f.value).toMatchObject({ flightId: SEED_IDS.demoFlight });
    const o = await client.getProduct(addon);
    expect(o.value).toMatchObject({ id: SEED_IDS.demoAddOn, productId: SEED_IDS.demoAddOnProductId });
    expect(o.value[kindInfo('addon').publishedField]).toMatchObject({ id: SEED_IDS.demoAddOnPublishedSubmission });

    const log = (await emu.admin.state()).requests.filter((r) => r.server === 'api');
    expect(log.map((r) => r.correlationId)).toEqual(
      expect.arrayContaining([a.correlationId, f.correlationId, o.correlationId]),
    );
  });

  it('creates, reads, updates, commits and deletes submissions; sends the exact Content-Type', async () => {
    const { client, sent } = harness();
    const created = await client.createSubmission(app);
    const sid = created.value.id;
    expect(sid).toMatch(/^\d{19}$/);
    const uploadUrl = created.value.fileUploadUrl as string;
    expect(uploadUrl).toContain('sig=');
    // The client registered the SAS URL: no later log line can carry it.
    expect(redact(`uploading to ${uploadUrl}`)).not.toContain(/sig=([^&]*)/.exec(uploadUrl)![1]!);

    const read = await client.getSubmission(app, sid);
    expect(read.value.id).toBe(sid);
    const body: Submission = { ...read.value, notesForCertification: 'Tested with the emulator ✓' };
    const updated = await client.updateSubmission(app, sid, body);
    expect(updated.value.notesForCertification).toBe('Tested with the emulator ✓');

    const status = await client.getSubmissionStatus(app, sid);
    expect(status.value).toEqual({
      status: 'PendingCommit',
      statusDetails: { errors: [], warnings: [], certificationReports: [] },
    });

    const second = await client.createSubmission(flight, { minimal: true });
    await client.deleteSubmission(flight, second.value.id);
    expect((await storeRejection(client.getSubmission(flight, second.value.id))).code).toBe('NotFound');

    const commit = await client.commitSubmission(app, sid);
    expect(commit.value.status).toBe('CommitStarted');
    expect((await client.getProduct(app)).value[kindInfo('app').pendingField]).toMatchObject({ id: sid });

    expect(sent.length).toBeGreaterThan(8);
    expect(new Set(sent.map((s) => s.contentType))).toEqual(new Set(['application/json; charset=utf-8']));
    expect(sent.find((s) => s.method === 'POST' && s.url.includes('isMinimalResponse=true'))).toBeDefined();
  });

  it('creates flights and add-ons and lists them across pages', async () => {
    const { client, lines } = harness({ pageSize: 2 });
    const made = [];
    for (const name of ['Beta ring', 'Insiders', 'Dogfood']) {
      made.push(
        (await client.createFlight(SEED_IDS.demoApp, { friendlyName: name, groupIds: ['1152921504606962205'] })).value,
      );
    }
    expect(made.every((f) => typeof f.flightId === 'string' && f.flightId.length > 0)).toBe(true);
    const flights = await client.listFlights(SEED_IDS.demoApp);
    expect(flights.value.map((f) => f.friendlyName)).toEqual(
      expect.arrayContaining(['Beta ring', 'Insiders', 'Dogfood']),
    );
    expect(new Set(flights.value.map((f) => f.flightId)).size).toBe(flights.value.length);
    // The next links come in the Store's shape, listflights/?skip=2&top=2.
    const pages = lines.filter((l) => l.method === 'GET' && /\/listflights\/?$/.test(l.path));
    expect(pages.length).toBe(Math.ceil(flights.value.length / 2));

    const addOn = await client.createInAppProduct({
      applicationIds: [SEED_IDS.demoApp],
      productId: 'coins-100',
      productType: 'Consumable',
    });
    expect(typeof addOn.value.id).toBe('string');
    const all = await client.listInAppProducts();
    const expected = (await emu.admin.state()).inAppProducts.length;
    expect(all.value).toHaveLength(expected);
    expect(all.value.map((x) => x.id)).toContain(addOn.value.id);
  });

  it('lists no flights and no add-ons when the Store answers 404 for an empty list', async () => {
    const { client } = harness();
    // The paid app of the seed has neither: the Store's list calls answer 404 then.
    const flights = await client.listFlights(SEED_IDS.paidApp);
    expect(flights.value).toEqual([]);
    expect(flights.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    await emu.admin.reset({ ...defaultSeed(), inAppProducts: [] });
    try {
      expect((await client.listInAppProducts()).value).toEqual([]);
    } finally {
      await emu.admin.reset('default');
    }
  });

  it('maps Store errors to StoreRequestError with code, status, message and correlation id', async () => {
    const { client } = harness();
    await client.createSubmission(app);
    const conflict = await storeRejection(client.createSubmission(app));
    expect(conflict).toMatchObject({ code: 'InvalidState', status: 409, retriable: false });
    expect(conflict.message).toMatch(
      new RegExp(
        `^POST applications/${SEED_IDS.demoApp}/submissions failed with 409 InvalidState: .+ \\(MS-CorrelationId \\S+\\)$`,
      ),
    );
    const logged = (await emu.admin.state()).requests.filter((r) => r.server === 'api' && r.status === 409);
    expect(logged.map((r) => r.correlationId)).toContain(conflict.correlationId);

    const missing = await storeRejection(client.getProduct({ kind: 'app', applicationId: '9NOTHERE0000' }));
    expect(missing).toMatchObject({ code: 'NotFound', status: 404, retriable: false });

    const portal = { kind: 'app', applicationId: SEED_IDS.portalApp } as const;
    const pending = await client.getSubmission(portal, SEED_IDS.portalAppPendingSubmission);
    const refused = await storeRejection(
      client.updateSubmission(portal, SEED_IDS.portalAppPendingSubmission, pending.value),
    );
    expect(refused).toMatchObject({ code: 'InvalidOperation', status: 400, retriable: false });
  });

  it('answers package rollout calls for a submission with a rollout in progress, and 409 otherwise', async () => {
    const { client } = harness();
    const rollout = { kind: 'app', applicationId: SEED_IDS.rolloutApp } as const;
    const state = await client.getPackageRollout(rollout, SEED_IDS.rolloutAppPublishedSubmission);
    expect(state.value.isPackageRollout).toBe(true);
    await client.haltPackageRollout(rollout, SEED_IDS.rolloutAppPublishedSubmission);
    expect((await storeRejection(client.finalizePackageRollout(app, SEED_IDS.demoAppPublishedSubmission))).status).toBe(
      409,
    );
  });
});

describe('StoreClient retries', () => {
  it('honours Retry-After on 429 and then succeeds', async () => {
    const { client, lines } = harness();
    await fault({
      match: { method: 'GET', path: `applications/${SEED_IDS.demoApp}` },
      status: 429,
      headers: { 'Retry-After': '1' },
      body: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 1 seconds.' },
    });
    const started = Date.now();
    await client.getProduct(app);
    // A lower bound: a busy machine can only make the wait longer.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(lines.map((l) => [l.status, l.attempt])).toEqual([
      [429, 1],
      [200, 2],
    ]);
  });

  it('waits out the emulated per-tenant rate limit', async () => {
    // Two calls per 3 s: the third of three calls in a row is refused however slow the machine
    // makes them (short of 3 s for two local calls), and the Retry-After of at most 3 s is one
    // the client may wait.
    await emu.admin.configure({ rateLimitEnabled: true, rateLimitPerMinute: 2, rateLimitWindowMs: 3000 });
    const { client, lines } = harness();
    for (let i = 0; i < 3; i++) await client.getProduct(app);
    expect(lines.filter((l) => l.status === 429).length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => l.status === 200)).toHaveLength(3);
  });

  it('gives up at once, retriable with retryAfterMs, when Retry-After is longer than it may wait', async () => {
    const { client, lines } = harness({ maxRetryDelayMs: 3000 });
    await fault({
      match: { method: 'GET' },
      status: 429,
      headers: { 'Retry-After': '120' },
      body: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 120 seconds.' },
    });
    const err = await storeRejection(client.getProduct(app));
    // One try and a rejection: it neither waited the 120 s out nor retried after its own 3 s.
    expect(err).toMatchObject({ code: 'RateLimited', status: 429, retryAfterMs: 120_000, retriable: true });
    expect(err.facts().retryAfterMs).toBe(120_000);
    expect(lines).toHaveLength(1);
  });

  it('retries a 5xx on a read, with backoff, until it succeeds', async () => {
    const { client, lines } = harness();
    await fault({ match: { method: 'GET', path: `applications/${SEED_IDS.demoApp}` }, status: 503, times: 2 });
    await client.getProduct(app);
    expect(lines.map((l) => l.status)).toEqual([503, 503, 200]);
  });

  it('stops after maxRetries and throws the last answer as a retriable error', async () => {
    const { client } = harness({ maxRetries: 2 });
    await fault({
      match: { method: 'GET' },
      status: 500,
      times: 'always',
      body: { code: 'UnknownInternalFailure', message: 'boom' },
    });
    const err = await storeRejection(client.getProduct(app));
    expect(err).toMatchObject({ code: 'UnknownInternalFailure', status: 500, retriable: true });
    expect(await apiRequests('GET', /\/applications\/[^/]+$/)).toBe(3);
  });

  it('never retries a create that answered 503: the submission may exist, and it does', async () => {
    const { client } = harness();
    await fault({
      match: { method: 'POST', path: 'applications/*/submissions' },
      status: 503,
      after: true,
      body: { code: 'InvalidOperation', message: 'retry using exponential backoff' },
    });
    const err = await storeRejection(client.createSubmission(app));
    expect(err).toMatchObject({ status: 503, retriable: true });
    expect(await apiRequests('POST', /submissions$/)).toBe(1);
    // The orchestration looks for the pending submission, and finds the one the failed call made.
    const product = await client.getProduct(app);
    expect(product.value[kindInfo('app').pendingField]).toMatchObject({ id: expect.stringMatching(/^\d{19}$/) });
  });

  it('does retry a create turned away with 429: the service did nothing', async () => {
    const { client, lines } = harness();
    await fault({
      match: { method: 'POST', path: 'applications/*/submissions' },
      status: 429,
      headers: { 'Retry-After': '0' },
    });
    const created = await client.createSubmission(app);
    expect(lines.map((l) => l.status)).toEqual([429, 201]);
    const pending = (await emu.admin.state()).submissions.filter(
      (s) => s.productId === SEED_IDS.demoApp && s.status === 'PendingCommit',
    );
    expect(pending.map((s) => s.id)).toEqual([created.value.id]);
  });

  it('never retries a commit, a flight create or an add-on create on a 5xx', async () => {
    const { client } = harness();
    const sid = (await client.createSubmission(app)).value.id;
    await fault({ match: { method: 'POST' }, status: 500, times: 'always' });
    expect((await storeRejection(client.commitSubmission(app, sid))).status).toBe(500);
    expect(
      (await storeRejection(client.createFlight(SEED_IDS.demoApp, { friendlyName: 'x', groupIds: [] }))).status,
    ).toBe(500);
    expect(
      (
        await storeRejection(
          client.createInAppProduct({ applicationIds: [SEED_IDS.demoApp], productId: 'x', productType: 'Durable' }),
        )
      ).status,
    ).toBe(500);
    expect(await apiRequests('POST', /(commit|flights|inappproducts)$/)).toBe(3);
  });

  it('aborts a hung request after timeoutMs and retries it when it is a read', async () => {
    const { client, lines } = harness({ timeoutMs: 300, maxRetries: 1 });
    await fault({ match: { method: 'GET' }, hang: true, times: 'always' });
    // The server never answers: the Timeout errors can only come from the client's own deadline.
    const err = await storeRejection(client.getProduct(app));
    expect(err).toMatchObject({ code: 'Timeout', retriable: true });
    expect(lines.map((l) => [l.error, l.attempt])).toEqual([
      ['Timeout', 1],
      ['Timeout', 2],
    ]);
  });

  it('does not retry a hung create, and reports a dropped connection as a retriable NetworkError', async () => {
    const { client, lines } = harness({ timeoutMs: 300 });
    await fault({ match: { method: 'POST' }, hang: true });
    expect((await storeRejection(client.createSubmission(app))).code).toBe('Timeout');
    expect(lines).toHaveLength(1);

    await fault({ match: { method: 'GET' }, drop: true, times: 'always' });
    const dropped = await storeRejection(harness({ maxRetries: 1 }).client.getProduct(app));
    expect(dropped).toMatchObject({ code: 'NetworkError', retriable: true });
  });
});

describe('StoreClient tokens', () => {
  it('gets a new token after a 401 and resends once', async () => {
    const { client, lines, sent } = harness();
    await client.getProduct(app);
    await fault({
      match: { method: 'GET' },
      status: 401,
      body: { code: 'Unauthorized', message: 'Access token has expired.' },
    });
    await client.getProduct(app);
    expect(lines.map((l) => [l.status, l.attempt])).toEqual([
      [200, 1],
      [401, 1],
      [200, 2],
    ]);
    const tokens = sent.map((s) => s.authorization);
    expect(tokens[1]).toBe(tokens[0]);
    // A really new token, not the cached one the 401 refused.
    expect(tokens[2]).not.toBe(tokens[1]);
  });

  it('gives up after one refresh: a lasting 401 is Unauthorized and not retriable', async () => {
    const { client, lines } = harness();
    await fault({ match: { method: 'GET' }, status: 401, times: 'always' });
    const err = await storeRejection(client.getProduct(app));
    expect(err).toMatchObject({ code: 'Unauthorized', status: 401, retriable: false });
    expect(lines).toHaveLength(2);
  });

  it('checkCredential returns the expiry only; a wrong secret is a non-retriable error without the secret', async () => {
    const ok = await checkCredential(storeConfig(), { caCertificates: ca });
    expect(Object.keys(ok)).toEqual(['expiresOnTimestamp']);
    expect(ok.expiresOnTimestamp).toBeGreaterThan(Date.now());

    const wrong = 'wrong~secret~value~123456';
    const err = await storeRejection(checkCredential(storeConfig({ clientSecret: wrong }), { caCertificates: ca }));
    expect(err).toMatchObject({ code: 'AuthenticationFailed', retriable: false });
    expect(err.message).not.toContain(wrong);
  });

  it('keeps tokens, the client secret and SAS signatures out of every log line and error', async () => {
    const { client, lines } = harness();
    const sid = (await client.createSubmission(app)).value.id;
    await client.getSubmission(app, sid);
    await fault({ match: { method: 'GET' }, status: 401, times: 'always' });
    const err = await storeRejection(client.getSubmission(app, sid));
    const secrets = await emu.admin.secrets();
    const text = JSON.stringify(lines) + err.message + JSON.stringify(err.facts());
    for (const secret of secrets.all) expect(text).not.toContain(secret);
    expect(lines.every((l) => !l.path.includes('?'))).toBe(true);
    expect(lines.every((l) => typeof l.durationMs === 'number' && l.method && l.path)).toBe(true);
  });
});
