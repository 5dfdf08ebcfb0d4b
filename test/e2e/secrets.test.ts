import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEED_IDS } from '../../sandbox/emulator';
import { eventually } from '../helpers/eventually';
import { findLeakedSecrets, plantInTaskHub, type LeakText } from '../helpers/secrets';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { fakeFile, goodZip, packageFor } from '../helpers/zips';
import { dropRun, seedWithApps } from '../orchestrations/durable';
import { sandboxSecret, startTopicReceiver, startWebhookReceiver, type Receiver } from '../../sandbox/notifyReceiver';

const CERT_APP = '9NBLGGH4CRTF';
const THROTTLED_APP = '9NBLGGH4THRT';
const CANCEL_APP = '9NBLGGH4CNCL';
const UPLOAD_APP = '9NBLGGH4UPLD';
const PACKAGE = 'packages/Contoso.Demo_3.0.0.0_x64.msixupload';
const SCREENSHOT = 'images/en-us/leak-check.png';

function appZip(applicationId: string, options: Record<string, unknown> = {}): Buffer {
  const manifest = {
    target: { kind: 'app', applicationId },
    submission: {
      listings: {
        'en-us': {
          baseListing: { releaseNotes: 'Leak check.', images: [{ fileName: SCREENSHOT, imageType: 'Screenshot' }] },
        },
      },
      applicationPackages: [{ fileName: PACKAGE }],
    },
    options,
  };
  return goodZip(manifest, { [PACKAGE]: packageFor(PACKAGE), [SCREENSHOT]: fakeFile('png', 64) });
}

describe('no secret leaks into histories, statuses, reports or logs', () => {
  let sandbox: TestSandbox;
  let logDir: string;
  let logFile: string;
  /** Everything this test received over HTTP from the app and the Durable API. */
  const received: LeakText[] = [];
  /** Run events arrive here: the HMAC secret and the topic key are looked for everywhere too. */
  let webhook: Receiver;
  let topic: Receiver;

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    const response = await sandbox.host.fetch(`${path}`, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.clone().text();
    const headers = [...response.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
    received.push({ where: `${method} ${path} response`, text: `${headers}\n\n${text}` });
    return response;
  }

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'leaks-'));
    logFile = join(logDir, 'host.log');
    const webhookSecret = sandboxSecret();
    // The first attempt of every event fails: the retry path, which logs the most, is taken.
    webhook = await startWebhookReceiver(webhookSecret, { failFirst: 1 });
    const topicKey = sandboxSecret();
    topic = await startTopicReceiver(topicKey);
    sandbox = await startTestSandbox({
      emulator: { seed: seedWithApps(CERT_APP, THROTTLED_APP, CANCEL_APP, UPLOAD_APP) },
      host: { logFile, clockSpeed: 120 },
      // Six runs at once would otherwise wait on the client's pacing of 20 calls a real minute.
      settings: {
        STORE_MAX_REQUESTS_PER_MINUTE: '10000',
        NOTIFY_WEBHOOK_URL: webhook.url,
        NOTIFY_WEBHOOK_SECRET: webhookSecret,
        NOTIFY_EVENTGRID_ENDPOINT: topic.url,
        NOTIFY_EVENTGRID_KEY: topicKey,
      },
    });
  });
  afterAll(async () => {
    await sandbox?.stop();
    await Promise.all([webhook?.stop(), topic?.stop()]);
    rmSync(logDir, { recursive: true, force: true });
  });

  it('runs app, flight, add-on, failing, throttled and canceled flows and finds no secret anywhere', async () => {
    const admin = sandbox.emulator.admin;
    // Error paths log and persist the most text: a certification failure, a 429 that outlasts the
    // client's own patience (so the orchestration retries it), 503s while polling the status.
    await admin.fault({
      kind: 'certificationFailed',
      productId: CERT_APP,
      codes: ['InvalidMicrosoftAgeRating'],
      reportUrl: 'https://example.invalid/cert/report',
    });
    await admin.fault({
      match: { server: 'api', method: 'POST', path: `applications/${THROTTLED_APP}/submissions` },
      status: 429,
      headers: { 'Retry-After': '30' },
      body: { statusCode: 429, message: 'Rate limit is exceeded. Try again in 30 seconds.' },
    });
    await admin.fault({
      match: { server: 'api', method: 'GET', path: `applications/${THROTTLED_APP}/submissions/*/status` },
      status: 503,
      headers: { 'Retry-After': '30' },
      body: { code: 'ServiceUnavailable', message: 'The service is busy.' },
    });
    await admin.fault({
      match: { server: 'api', method: 'GET', path: `applications/${THROTTLED_APP}/submissions/*/status` },
      status: 503,
      body: { code: 'ServiceUnavailable', message: 'The service is busy.' },
    });
    await admin.fault({ kind: 'stuck', status: 'Certification', productId: CANCEL_APP });
    // A refused token: the client fetches a new one and sends the call again.
    await admin.fault({
      match: { server: 'api', method: 'GET', path: `applications/${SEED_IDS.demoApp}/listflights` },
      status: 401,
      body: { code: 'Unauthorized', message: 'The access token is invalid or has expired.' },
    });

    const flightZip = goodZip(
      {
        target: {
          kind: 'flight',
          applicationId: SEED_IDS.demoApp,
          flight: { friendlyName: 'Leak check ring', groupIds: ['1152921504606962205'] },
        },
        submission: { flightPackages: [{ fileName: PACKAGE }] },
      },
      { [PACKAGE]: packageFor(PACKAGE) },
    );
    const addonZip = goodZip({
      target: { kind: 'addon', inAppProductId: SEED_IDS.demoAddOn },
      submission: { listings: { 'en-us': { title: 'Demo add-on', description: 'Now with more.' } } },
    });

    // The app run is started over HTTP as well, so the check sees what the API answers.
    const appId = await dropRun(sandbox, 'leaks/app.zip', appZip(SEED_IDS.demoApp, { waitFor: 'published' }));
    const started = await call('POST', '/api/submissions', { blob: 'leaks/app.zip' });
    expect(started.status).toBe(202);
    expect(((await started.json()) as { id: string }).id).toBe(appId);

    const ids = {
      app: appId,
      flight: await dropRun(sandbox, 'leaks/flight.zip', flightZip),
      addon: await dropRun(sandbox, 'leaks/addon.zip', addonZip),
      certFails: await dropRun(sandbox, 'leaks/cert.zip', appZip(CERT_APP, { waitFor: 'published' })),
      throttled: await dropRun(sandbox, 'leaks/throttled.zip', appZip(THROTTLED_APP)),
      canceled: await dropRun(sandbox, 'leaks/cancel.zip', appZip(CANCEL_APP, { waitFor: 'published' })),
    };

    await sandbox.waitFor(ids.canceled, (d) => d.phase === 'WaitingForStore' && (d.polls ?? 0) >= 1);
    const cancel = await call('POST', `/api/submissions/${ids.canceled}/cancel?reason=leak+check`);
    expect(cancel.status).toBe(202);

    const docs = Object.fromEntries(
      await Promise.all(Object.entries(ids).map(async ([k, id]) => [k, await sandbox.finished(id)] as const)),
    );
    for (const [k, id] of Object.entries(ids)) await call('GET', `/api/submissions/${id}`).then(() => k);
    await call('GET', '/api/submissions?status=Succeeded,Failed,Canceled');

    expect({
      app: docs.app!.status,
      flight: docs.flight!.status,
      addon: docs.addon!.status,
      certFails: docs.certFails!.status,
      throttled: docs.throttled!.status,
      canceled: docs.canceled!.status,
    }).toEqual({
      app: 'Succeeded',
      flight: 'Succeeded',
      addon: 'Succeeded',
      certFails: 'Failed',
      throttled: 'Succeeded',
      canceled: 'Canceled',
    });
    expect(docs.certFails!.failure?.facts.code).toBe('InvalidMicrosoftAgeRating');
    // The faults did fire: the error paths were really taken.
    expect(docs.throttled!.timeline.find((s) => s.step === 'createSubmission')?.attempts).toBe(2);
    expect((await admin.faults()).filter((f) => f.kind !== 'stuck' && f.kind !== 'certificationFailed')).toEqual([]);
    // The cancel's cleanup runs in its own instance; let it write its report before searching.
    await eventually('the canceled run to write its report', () =>
      sandbox.reports.getBlobClient(`leaks/cancel.zip/${ids.canceled}.json`).exists(),
    );

    // Last, alone, since an upload fault cannot name its run: the upload URL refuses the
    // signature, the error path most likely to carry the SAS URL into a message.
    const refusal = await admin.fault({
      match: { server: 'upload', method: 'PUT' },
      times: 'always',
      status: 403,
      headers: { 'Content-Type': 'application/xml' },
      body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message></Error>',
    });
    const uploadRun = await dropRun(sandbox, 'leaks/upload.zip', appZip(UPLOAD_APP));
    const uploadDoc = await sandbox.finished(uploadRun);
    await admin.removeFault(refusal.id);
    expect(uploadDoc).toMatchObject({ status: 'Failed', failure: { step: 'uploadPackageZip' } });
    expect(refusal.id).toBeDefined();

    // The events went out (and were retried): what a receiver got is an output too, its body
    // (the topic's requests carry the key in their aeg-sas-key header, by design: that header is not searched).
    await eventually('every run to have told the receivers it ended', () =>
      Object.values(ids)
        .concat(uploadRun)
        .every((id) =>
          [webhook, topic].every((r) => r.accepted().some((a) => a.event?.runId === id && a.event.type === 'runEnded')),
        ),
    );
    expect(webhook.arrivals.some((a) => a.answered === 500)).toBe(true);
    for (const [name, receiver] of [
      ['webhook', webhook],
      ['topic', topic],
    ] as const)
      receiver.arrivals.forEach((a, i) => received.push({ where: `${name} receiver body #${i + 1}`, text: a.body }));
    for (const a of webhook.arrivals)
      received.push({ where: 'webhook receiver headers', text: JSON.stringify(a.headers) });

    const secrets = await admin.secrets();
    // Every run got a token and every created submission an upload URL: there was something to leak.
    // (two tokens at least: the refused one and its replacement).
    expect(secrets.accessTokens.length).toBeGreaterThanOrEqual(2);
    expect(secrets.sasSignatures.length).toBeGreaterThanOrEqual(7);

    expect(await findLeakedSecrets(sandbox, { texts: received, logFile })).toEqual([]);
  });

  it('finds a token planted in a report blob, a SAS signature in a response and a cut-off token in a log line', async () => {
    const secrets = await sandbox.emulator.admin.secrets();
    const token = secrets.accessTokens.at(-1)!;
    const sig = secrets.sasSignatures.at(-1)!;
    const planted = sandbox.reports.getBlockBlobClient('planted/leak.json');
    const body = JSON.stringify({ debug: { authorization: `Bearer ${token}` } });
    await planted.upload(body, body.length);
    // As an activity input would hold it, where only the task hub's storage shows it.
    const state = JSON.stringify({
      history: [
        { EventType: 4, Name: 'uploadPackageZip', Input: JSON.stringify({ url: `https://x.invalid/b?sig=${sig}` }) },
      ],
    });
    const unplant = await plantInTaskHub(sandbox, state);
    const line = {
      time: new Date().toISOString(),
      level: 'information',
      category: 'planted',
      message: `token ${token.slice(0, 30)}...`,
    };
    // The app's own secrets are looked for as the Store's are: the topic key, in a log line.
    const keyLine = {
      time: new Date().toISOString(),
      level: 'information',
      category: 'planted',
      message: `aeg-sas-key: ${sandbox.settings.NOTIFY_EVENTGRID_KEY}`,
    };
    sandbox.logs.push(line, keyLine);
    try {
      const leaks = await findLeakedSecrets(sandbox, {
        texts: [
          { where: 'planted response', text: `Location: https://x.invalid/c/b?sv=1&sig=${encodeURIComponent(sig)}` },
        ],
      });
      expect(leaks).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^access token #\d+ \(raw\) in report blob .*\/planted\/leak\.json$/),
          expect.stringMatching(/^SAS signature #\d+ \(URL-encoded\) in planted response$/),
          expect.stringMatching(/^access token #\d+ \(first 24 characters\) in host log line \d+ \(planted\)$/),
          expect.stringMatching(/^Event Grid topic key \(raw\) in host log line \d+ \(planted\)$/),
          expect.stringMatching(
            /^SAS signature #\d+ \(raw\) in task hub (state .*\/instances\/planted\.json|table \w+History planted\/planted)$/,
          ),
        ]),
      );
      expect(leaks).toHaveLength(5);
      // A finding never repeats the secret it found.
      for (const leak of leaks) expect(leak).not.toContain(token.slice(0, 24));
    } finally {
      await planted.delete();
      await unplant();
      sandbox.logs.splice(sandbox.logs.indexOf(line), 1);
      sandbox.logs.splice(sandbox.logs.indexOf(keyLine), 1);
    }
    expect(await findLeakedSecrets(sandbox)).toEqual([]);
  });

  it('still searches storage and logs once the host is down', async () => {
    const token = (await sandbox.emulator.admin.secrets()).accessTokens[0]!;
    await sandbox.host.stop();
    expect(await findLeakedSecrets(sandbox)).toEqual([]);
    const planted = sandbox.reports.getBlockBlobClient('planted/after-stop.json');
    await planted.upload(token, token.length);
    expect(await findLeakedSecrets(sandbox)).toEqual([
      expect.stringMatching(/^access token #1 \(raw\) in report blob .*\/planted\/after-stop\.json$/),
    ]);
  });
});
