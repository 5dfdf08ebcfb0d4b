/**
 * Run events on the sandbox, over real HTTP, with the real durable-functions library: a webhook
 * receiver that checks signatures, one that answers 500 twice per event, one that is not there
 * (connection refused), and an HTTPS stand-in for an Event Grid topic. Every wait is on what
 * arrived or what the status shows, never on time.
 */
import { freePort } from '../../sandbox/azurite';
import { SEED_IDS } from '../../sandbox/emulator';
import {
  sandboxSecret,
  startTopicReceiver,
  startWebhookReceiver,
  type Arrival,
  type Receiver,
} from '../../sandbox/notifyReceiver';
import type { RunEvent } from '../../lib/notify/event';
import type { StatusDocument } from '../../lib/statusDocument';
import { eventually } from '../helpers/eventually';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { fakeFile, goodZip, packageFor } from '../helpers/zips';
import { dropRun, seedWithApps } from '../orchestrations/durable';

const CERT_APP = '9NBLGGH4NTFY';
const PACKAGE = 'packages/Contoso.Demo_2.0.0.0_x64.msixupload';
const SCREENSHOT = 'images/en-us/notify.png';
const ATTEMPTS = 4;

function appZip(applicationId: string): Buffer {
  return goodZip(
    {
      target: { kind: 'app', applicationId },
      submission: {
        listings: {
          'en-us': {
            baseListing: { releaseNotes: 'Notify me.', images: [{ fileName: SCREENSHOT, imageType: 'Screenshot' }] },
          },
        },
        applicationPackages: [{ fileName: PACKAGE }],
      },
      options: { waitFor: 'published' },
    },
    { [PACKAGE]: packageFor(PACKAGE), [SCREENSHOT]: fakeFile('png', 64) },
  );
}

function ofRun(arrivals: Arrival[], runId: string): Arrival[] {
  return arrivals.filter((a) => a.event?.runId === runId);
}

describe('run events reach webhooks and an Event Grid topic', () => {
  const secret = sandboxSecret();
  const topicKey = sandboxSecret();
  let sandbox: TestSandbox;
  let good: Receiver;
  let flaky: Receiver;
  let topic: Receiver;

  beforeAll(async () => {
    good = await startWebhookReceiver(secret);
    flaky = await startWebhookReceiver(secret, { failFirst: 2 });
    topic = await startTopicReceiver(topicKey);
    // A port nothing listens on (bound, then closed): a connection to it is refused.
    const dead = `http://127.0.0.1:${await freePort()}/hook`;
    // The host's port is fixed here so the app can be told its address for the events' status URL
    // (on Azure, WEBSITE_HOSTNAME says it).
    const hostPort = await freePort();
    sandbox = await startTestSandbox({
      ports: { host: hostPort },
      emulator: { seed: seedWithApps(CERT_APP) },
      settings: {
        STORE_MAX_REQUESTS_PER_MINUTE: '10000',
        NOTIFY_WEBHOOK_URL: `${good.url}, ${flaky.url} ${dead}`,
        NOTIFY_WEBHOOK_SECRET: secret,
        NOTIFY_EVENTGRID_ENDPOINT: topic.url,
        NOTIFY_EVENTGRID_KEY: topicKey,
        NOTIFY_MAX_ATTEMPTS: String(ATTEMPTS),
        NOTIFY_RETRY_FIRST_SECONDS: '10',
        NOTIFY_STATUS_BASE_URL: `http://127.0.0.1:${hostPort}`,
      },
    });
  });
  afterAll(async () => {
    await sandbox?.stop();
    await Promise.all([good, flaky, topic].map((r) => r?.stop()));
  });

  /** The run's status once every event's notifier has ended (delivered or given up at each receiver). */
  async function settled(runId: string): Promise<StatusDocument> {
    return sandbox.waitFor(runId, (d) => {
      const events = d.timeline.filter((s) => s.step.startsWith('notify:'));
      const last = events.find((s) => s.step === 'notify:runEnded')?.sequence;
      // The run's end is its last event: then every notifier 1..last is there, and each has ended.
      return (
        ['Succeeded', 'Failed'].includes(d.status) &&
        last !== undefined &&
        events.length === last &&
        events.every((s, i) => s.sequence === i + 1 && s.endedAt !== undefined)
      );
    });
  }

  function eventsAt(receiver: Receiver, runId: string): RunEvent[] {
    return ofRun(receiver.accepted(), runId)
      .map((a) => a.event!)
      .sort((a, b) => a.sequence - b.sequence);
  }

  it('a publication: every event signed, numbered, delivered; 500 twice then the third try; a dead receiver given up in the timeline; CloudEvents on the topic', async () => {
    const runId = await dropRun(sandbox, 'notify/published.zip', appZip(SEED_IDS.demoApp));
    const doc = await settled(runId);
    // The dead receiver failed nothing: the run went all the way.
    expect(doc).toMatchObject({ status: 'Succeeded', storeStatus: 'Published' });

    const events = eventsAt(good, runId);
    // Numbered 1..n without a gap or a repeat, each signed (the receiver verified it, or it answered 401).
    expect(events.map((e) => e.sequence)).toEqual(events.map((_e, i) => i + 1));
    expect(ofRun(good.arrivals, runId).every((a) => a.verified)).toBe(true);
    const phases = events.filter((e) => e.type === 'phaseChanged').map((e) => e.phase);
    expect(phases).toEqual(
      expect.arrayContaining(['Validating', 'CreatingSubmission', 'Committing', 'WaitingForStore']),
    );
    const statuses = events.filter((e) => e.type === 'storeStatusChanged').map((e) => e.storeStatus);
    // Each a change from the one before (the follower tells only what its polls saw: the fast Store skips some).
    expect(statuses.at(-1)).toBe('Published');
    expect(statuses.every((s, i) => i === 0 || s !== statuses[i - 1])).toBe(true);
    const ended = events.at(-1)!;
    expect(ended).toMatchObject({
      type: 'runEnded',
      runId,
      outcome: 'Succeeded',
      phase: 'Succeeded',
      storeStatus: 'Published',
      product: { kind: 'app', id: SEED_IDS.demoApp },
      submissionId: doc.submissionId,
      statusUrl: `${sandbox.host.url}/api/submissions/${runId}`,
    });
    expect(ended.text).toContain(`ended Succeeded (Store status Published)`);

    // The flaky receiver answered 500 to the first two attempts of each event and took the third.
    const flakyArrivals = ofRun(flaky.arrivals, runId);
    const endedAtFlaky = flakyArrivals.filter((a) => a.event!.sequence === ended.sequence);
    expect(endedAtFlaky.map((a) => [a.attempt, a.answered])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(endedAtFlaky.every((a) => a.verified)).toBe(true);
    expect(eventsAt(flaky, runId).map((e) => e.sequence)).toEqual(events.map((e) => e.sequence));

    // The timeline: one entry per event, with what each receiver got.
    const entries = doc.timeline.filter((s) => s.step.startsWith('notify:'));
    expect(entries.map((s) => s.sequence)).toEqual(events.map((e) => e.sequence));
    for (const entry of entries) {
      expect(entry.result).toBe('failed');
      expect(entry.deliveries).toEqual([
        expect.objectContaining({ target: 'webhook 1', result: 'delivered', attempts: 1 }),
        expect.objectContaining({ target: 'webhook 2', result: 'delivered', attempts: 3 }),
        expect.objectContaining({
          target: 'webhook 3',
          result: 'givenUp',
          attempts: ATTEMPTS,
          detail: 'webhook 3 could not be reached: ECONNREFUSED',
        }),
        expect.objectContaining({ target: 'eventGrid', result: 'delivered', attempts: 1 }),
      ]);
    }
    // Never the URL of a receiver in the timeline: it may be a credential.
    expect(JSON.stringify(doc)).not.toContain(good.url);

    // CloudEvents 1.0 on the topic, with the key, each carrying the same event as data.
    const cloud = ofRun(topic.accepted(), runId);
    expect(cloud.every((a) => a.verified)).toBe(true);
    expect(cloud.map((a) => a.event!.sequence).sort((a, b) => a - b)).toEqual(events.map((e) => e.sequence));
    const endedCloud = cloud.find((a) => a.event!.type === 'runEnded')!;
    expect(endedCloud.cloudEvent).toMatchObject({
      specversion: '1.0',
      id: ended.id,
      type: 'StoreSubmitter.Run.Ended',
      source: `/store-submitter/runs/${runId}`,
      subject: `app/${SEED_IDS.demoApp}`,
      datacontenttype: 'application/json',
    });
    expect(endedCloud.event).toEqual(ended);
  });

  it('a failed certification reaches the webhook signed, with the Store errors and the report link', async () => {
    await sandbox.emulator.admin.fault({
      kind: 'certificationFailed',
      productId: CERT_APP,
      codes: ['InvalidMicrosoftAgeRating'],
      reportUrl: 'https://example.invalid/cert/report?sig=notasecretbutaquery',
    });
    const runId = await dropRun(sandbox, 'notify/cert.zip', appZip(CERT_APP));
    const doc = await settled(runId);
    expect(doc).toMatchObject({ status: 'Failed', failure: { facts: { code: 'InvalidMicrosoftAgeRating' } } });

    const events = eventsAt(good, runId);
    expect(ofRun(good.arrivals, runId).every((a) => a.verified)).toBe(true);
    const failed = events.find((e) => e.type === 'storeStatusChanged' && e.storeStatus === 'CertificationFailed');
    expect(failed).toMatchObject({
      product: { kind: 'app', id: CERT_APP },
      storeErrors: [expect.objectContaining({ code: 'InvalidMicrosoftAgeRating' })],
      certificationReports: [expect.objectContaining({ reportUrl: 'https://example.invalid/cert/report' })],
    });
    expect(failed!.text).toContain('is now CertificationFailed: InvalidMicrosoftAgeRating');
    const ended = events.at(-1)!;
    expect(ended).toMatchObject({
      type: 'runEnded',
      outcome: 'Failed',
      failure: { code: 'InvalidMicrosoftAgeRating' },
      storeErrors: [expect.objectContaining({ code: 'InvalidMicrosoftAgeRating' })],
    });
    // Nothing secret in what a receiver got: not the HMAC secret, not the topic key, not the report link's query.
    const bodies = [...good.arrivals, ...flaky.arrivals, ...topic.arrivals].map((a) => a.body).join('\n');
    expect(bodies).not.toContain(secret);
    expect(bodies).not.toContain(topicKey);
    expect(bodies).not.toContain('notasecretbutaquery');
  });

  it('a delivery that does not verify is refused by the receiver (the check can fail)', async () => {
    const body = JSON.stringify({ id: 'x-1', runId: 'x' });
    const forged = await fetch(good.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'x-store-submitter-timestamp': String(Math.floor(Date.now() / 1000)),
        'x-store-submitter-signature': 'v1=00',
      },
      body,
    });
    expect(forged.status).toBe(401);
    await eventually('the forged delivery to be recorded', () => good.arrivals.find((a) => a.body === body));
    expect(good.arrivals.find((a) => a.body === body)).toMatchObject({
      verified: false,
      why: 'signature does not match',
    });
  });
});
