import { loadConfig, notifying } from '../../lib/config';
import { ConfigurationError } from '../../lib/errors';
import { cloudEventOf, eventFacts, runEvent, safeLink } from '../../lib/notify/event';
import {
  signature,
  signedHeaders,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
} from '../../lib/notify/signing';
import { MINIMAL_SETTINGS } from '../helpers/settings';

const minimal = MINIMAL_SETTINGS;
const SECRET = 'a-webhook-secret-of-some-length';

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig({ ...minimal, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigurationError);
    return (e as Error).message;
  }
  throw new Error('loadConfig accepted it');
}

describe('notification settings', () => {
  it('are off without a receiver', () => {
    const c = loadConfig(minimal);
    expect(c.notify.webhooks).toEqual([]);
    expect(notifying(c.notify)).toBe(false);
  });

  it('read one or several webhook URLs, the secret, the topic and the status address', () => {
    const c = loadConfig({
      ...minimal,
      NOTIFY_WEBHOOK_URL: 'https://a.example/hook, https://b.example/x?token=1  http://127.0.0.1:9/h',
      NOTIFY_WEBHOOK_SECRET: SECRET,
      NOTIFY_EVENTGRID_ENDPOINT: 'https://topic.westeurope-1.eventgrid.azure.net/api/events',
      WEBSITE_HOSTNAME: 'myapp.azurewebsites.net',
    });
    expect(c.notify.webhooks).toEqual([
      'https://a.example/hook',
      'https://b.example/x?token=1',
      'http://127.0.0.1:9/h',
    ]);
    expect(c.notify.webhookSecret).toBe(SECRET);
    expect(c.notify.eventGrid).toEqual({ endpoint: 'https://topic.westeurope-1.eventgrid.azure.net/api/events' });
    expect(c.notify.statusBaseUrl).toBe('https://myapp.azurewebsites.net');
    expect(notifying(c.notify)).toBe(true);
    expect(loadConfig({ ...minimal, WEBSITE_HOSTNAME: 'localhost:7071' }).notify.statusBaseUrl).toBe(
      'http://localhost:7071',
    );
  });

  it('fail fast when malformed, naming the entry but never echoing a webhook URL', () => {
    const message = problemsOf({
      NOTIFY_WEBHOOK_URL: 'https://ok.example/h,hooks.slack.example/services/T000/B000/XXXXSECRET',
      NOTIFY_EVENTGRID_ENDPOINT: 'http://topic.example/api/events',
      NOTIFY_MAX_ATTEMPTS: '0',
    });
    expect(message).toContain('NOTIFY_WEBHOOK_URL entry 2 must be an absolute http(s) URL');
    expect(message).not.toContain('XXXXSECRET');
    expect(message).toContain('NOTIFY_WEBHOOK_SECRET is not set');
    expect(message).toContain('NOTIFY_EVENTGRID_ENDPOINT must be an absolute https URL');
    expect(message).toContain('NOTIFY_MAX_ATTEMPTS must be a number from 1 to 20');
    expect(problemsOf({ NOTIFY_WEBHOOK_URL: 'https://a.example', NOTIFY_WEBHOOK_SECRET: 'short' })).toContain(
      'NOTIFY_WEBHOOK_SECRET must be at least 16 characters',
    );
  });
});

describe('webhook signatures', () => {
  const body = JSON.stringify({ id: 'run-1', text: 'hello' });
  const now = new Date('2026-12-01T10:00:00Z');

  it('sign the timestamp with the body, and a receiver verifies them', () => {
    const headers = signedHeaders(SECRET, body, 'run-1', now);
    const ts = Number(headers[TIMESTAMP_HEADER]);
    expect(ts).toBe(now.getTime() / 1000);
    // The known answer, computed independently of signature(): HMAC-SHA256 over "<ts>.<body>".
    const { createHmac } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const expected = createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex');
    expect(headers[SIGNATURE_HEADER]).toBe(`v1=${expected}`);
    const sent = { timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER] };
    expect(verifySignature(SECRET, sent, body, now)).toEqual({ valid: true });
  });

  it('refuse another body, another secret, another timestamp and a replay', () => {
    const headers = signedHeaders(SECRET, body, 'run-1', now);
    const sent = { timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER] };
    expect(verifySignature(SECRET, sent, `${body} `, now).valid).toBe(false);
    expect(verifySignature(`${SECRET}x`, sent, body, now).valid).toBe(false);
    const ts = Number(sent.timestamp) + 1;
    expect(verifySignature(SECRET, { ...sent, timestamp: String(ts) }, body, now).valid).toBe(false);
    expect(
      verifySignature(SECRET, { timestamp: String(ts), signature: signature(SECRET, ts, body) }, body, now),
    ).toEqual({ valid: true });
    const later = new Date(now.getTime() + 301_000);
    expect(verifySignature(SECRET, sent, body, later)).toEqual({
      valid: false,
      reason: 'timestamp outside the tolerance (a replay?)',
    });
    expect(verifySignature(SECRET, { signature: sent.signature }, body, now).valid).toBe(false);
  });
});

describe('run events', () => {
  const state = {
    phase: 'WaitingForStore' as const,
    product: { kind: 'flight' as const, applicationId: '9NBLGGH4R315', flightId: 'f-1' },
    submissionId: '1152921505',
    storeStatus: 'CertificationFailed' as const,
    statusDetails: {
      errors: [{ code: 'InvalidMicrosoftAgeRating', details: 'The rating is missing.' }],
      warnings: [{ code: 'SalesUnPublishInMarket', details: 'Market x' }],
      certificationReports: [
        { date: '2026-12-01T09:00:00Z', reportUrl: 'https://reports.example/cert/1?sv=2024&sig=abcSIGNATURE' },
      ],
    },
  };

  it('hold the run, product, phase, Store status, errors, warnings and the report link, without a query', () => {
    const facts = eventFacts('zip-1', 3, 'storeStatusChanged', new Date('2026-12-01T10:00:00Z'), state);
    const event = runEvent(facts, 'https://app.example/');
    expect(event).toEqual({
      id: 'zip-1-3',
      runId: 'zip-1',
      sequence: 3,
      type: 'storeStatusChanged',
      time: '2026-12-01T10:00:00.000Z',
      phase: 'WaitingForStore',
      product: { kind: 'flight', id: 'f-1', applicationId: '9NBLGGH4R315' },
      submissionId: '1152921505',
      storeStatus: 'CertificationFailed',
      storeErrors: [{ code: 'InvalidMicrosoftAgeRating', details: 'The rating is missing.' }],
      storeWarnings: [{ code: 'SalesUnPublishInMarket', details: 'Market x' }],
      certificationReports: [{ date: '2026-12-01T09:00:00Z', reportUrl: 'https://reports.example/cert/1' }],
      statusUrl: 'https://app.example/api/submissions/zip-1',
      text: expect.stringContaining('is now CertificationFailed: InvalidMicrosoftAgeRating'),
    });
    expect(JSON.stringify(event)).not.toContain('SIGNATURE');
    expect(event.text).toContain('Certification report: https://reports.example/cert/1.');
    expect(safeLink('javascript:alert(1)')).toBeUndefined();
  });

  it('say how a run ended, and go into a CloudEvents 1.0 envelope', () => {
    const facts = eventFacts('zip-2', 9, 'runEnded', new Date('2026-12-01T10:00:00Z'), {
      phase: 'Succeeded',
      product: { kind: 'app', applicationId: '9NBLGGH4R315' },
      outcome: 'Succeeded',
      storeStatus: 'Published',
    });
    const event = runEvent(facts, undefined);
    expect(event.text).toBe('Store submission run zip-2 for app 9NBLGGH4R315 ended Succeeded (Store status Published)');
    expect(event.statusUrl).toBeUndefined();
    expect(cloudEventOf(event)).toEqual({
      id: 'zip-2-9',
      source: '/store-submitter/runs/zip-2',
      type: 'StoreSubmitter.Run.Ended',
      subject: 'app/9NBLGGH4R315',
      time: new Date('2026-12-01T10:00:00Z'),
      datacontenttype: 'application/json',
      data: event,
    });
  });
});
