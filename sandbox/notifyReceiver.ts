/**
 * Local receivers of the app's run events, for `npm run sandbox` and the tests: a webhook that
 * checks each delivery's signature as a real receiver must (lib/notify/signing.ts), and an HTTPS
 * endpoint standing in for an Event Grid custom topic, which takes CloudEvents the way the topic
 * does (POST of a JSON array, `aeg-sas-key` header; learn.microsoft.com/azure/event-grid/post-to-custom-topic).
 * Both keep what arrived. A receiver can be told to answer 500 to the first attempts of every
 * event, to show the app's retries.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RunEvent } from '../lib/notify/event';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../lib/notify/signing';
import { ensureTlsMaterial, type TlsMaterial } from './tls';

export interface Arrival {
  /** When it arrived (this process's clock). */
  at: string;
  /** The attempt's number for this event id at this receiver, from 1. */
  attempt: number;
  /** What the receiver answered. */
  answered: number;
  /** Webhooks: whether the signature and timestamp held; Event Grid: whether the key matched. */
  verified: boolean;
  why?: string;
  /** The raw body and headers, as they came. */
  body: string;
  headers: Record<string, string>;
  /** The run event: the webhook's body, or the CloudEvent's `data`. */
  event?: RunEvent;
  /** Event Grid: the CloudEvent envelope without its data. */
  cloudEvent?: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  arrivals: Arrival[];
  /** The deliveries that were answered 2xx: what the receiver accepted. */
  accepted(): Arrival[];
  stop(): Promise<void>;
}

export interface ReceiverOptions {
  port?: number;
  /** Answer 500 to the first N attempts of every event (by event id). */
  failFirst?: number;
  /** Told of every arrival (the sandbox prints them). */
  onArrival?: (arrival: Arrival) => void;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function headersOf(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]),
  );
}

type Judge = (
  request: IncomingMessage,
  body: string,
) => { verified: boolean; why?: string; id?: string; event?: RunEvent; cloudEvent?: Record<string, unknown> };

async function serve(judge: Judge, path: string, options: ReceiverOptions, tls?: TlsMaterial): Promise<Receiver> {
  const arrivals: Arrival[] = [];
  const attempts = new Map<string, number>();
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    void readBody(request).then((body) => {
      if (request.method !== 'POST') {
        response.writeHead(405).end();
        return;
      }
      let judged: ReturnType<Judge>;
      try {
        judged = judge(request, body);
      } catch (e) {
        judged = { verified: false, why: `unreadable: ${e instanceof Error ? e.message : String(e)}` };
      }
      const key = judged.id ?? body;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const answered = !judged.verified ? 401 : attempt <= (options.failFirst ?? 0) ? 500 : 200;
      const arrival: Arrival = {
        at: new Date().toISOString(),
        attempt,
        answered,
        verified: judged.verified,
        ...(judged.why ? { why: judged.why } : {}),
        body,
        headers: headersOf(request),
        ...(judged.event ? { event: judged.event } : {}),
        ...(judged.cloudEvent ? { cloudEvent: judged.cloudEvent } : {}),
      };
      arrivals.push(arrival);
      options.onArrival?.(arrival);
      response
        .writeHead(answered, { 'Content-Type': 'application/json' })
        .end(answered === 200 ? '{}' : '{"error":"no"}');
    });
  };
  const server = tls
    ? createHttpsServer({ cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}${path}`,
    arrivals,
    accepted: () => arrivals.filter((a) => a.answered >= 200 && a.answered < 300),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A webhook receiver that verifies each delivery with `secret`, as the README shows a receiver doing. */
export function startWebhookReceiver(secret: string, options: ReceiverOptions = {}): Promise<Receiver> {
  return serve(
    (request, body) => {
      const verdict = verifySignature(
        secret,
        {
          timestamp: request.headers[TIMESTAMP_HEADER] as string,
          signature: request.headers[SIGNATURE_HEADER] as string,
        },
        body,
      );
      const event = JSON.parse(body) as RunEvent;
      return {
        verified: verdict.valid,
        ...(verdict.valid ? {} : { why: verdict.reason }),
        id: (request.headers[EVENT_ID_HEADER] as string | undefined) ?? event.id,
        event,
      };
    },
    '/hook',
    options,
  );
}

/**
 * An Event Grid custom topic's stand-in on HTTPS (the sandbox's own CA, which the sandbox host
 * trusts through NODE_EXTRA_CA_CERTS): takes a CloudEvents batch with the topic key in `aeg-sas-key`.
 */
export function startTopicReceiver(
  key: string,
  options: ReceiverOptions = {},
  tls = ensureTlsMaterial(),
): Promise<Receiver> {
  return serve(
    (request, body) => {
      const given = request.headers['aeg-sas-key'];
      const batch = JSON.parse(body) as Array<Record<string, unknown>>;
      const first = batch[0] ?? {};
      const { data, ...envelope } = first;
      const contentType = String(request.headers['content-type'] ?? '');
      const verified =
        given === key && Array.isArray(batch) && contentType.startsWith('application/cloudevents-batch+json');
      return {
        verified,
        ...(verified ? {} : { why: given === key ? `content type ${contentType}` : 'wrong or missing aeg-sas-key' }),
        id: typeof first.id === 'string' ? first.id : undefined,
        event: data as RunEvent,
        cloudEvent: envelope,
      };
    },
    '/api/events',
    options,
    tls,
  );
}

/** A secret for a sandbox session: random, so nothing real is ever written down. */
export function sandboxSecret(): string {
  return randomBytes(24).toString('base64url');
}
