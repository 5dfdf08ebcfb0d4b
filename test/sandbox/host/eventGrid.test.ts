/**
 * The blob trigger with Event Grid as its source, on the sandbox host as Flex Consumption: a
 * sandbox Event Grid topic on an Azurite container (sandbox/eventGridTopic.ts) validates its
 * subscription, then delivers BlobCreated events to the blob extension's webhook
 * (sandbox/host/blobWebhook.ts) in either schema; a failed delivery is retried, and a version
 * delivered twice fires once (the polling trigger's receipts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ContainerClient } from '@azure/storage-blob';
import { startEventGridTopic, type RunningTopic } from '../../../sandbox/eventGridTopic';
import { startHost, type RunningHost } from '../../../sandbox/host';
import { freshContainer, testStorage } from '../../helpers/azurite';
import { ensureBuilt, fixture, waitFor } from './hostHelpers';

const FUNCTION_ID = 'Host.Functions.onZipEvent';

function fired(host: RunningHost): Array<{ name: string; etag: string; ref: Record<string, string> }> {
  return host
    .logs()
    .filter((l) => l.message.startsWith('EVENT '))
    .map(
      (l) =>
        JSON.parse(l.message.slice('EVENT '.length)) as { name: string; etag: string; ref: Record<string, string> },
    );
}

/** Forwards to the host, but answers the first `failFirst` notifications 500 after forwarding them: a lost answer. */
async function flakyProxy(target: string, failFirst: number): Promise<{ url: string; server: Server }> {
  let failures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers[k] = v;
        const answer = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers,
          body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
        });
        const body = Buffer.from(await answer.arrayBuffer());
        if (req.headers['aeg-event-type'] === 'Notification' && failures < failFirst) {
          failures++;
          res.writeHead(500).end();
          return;
        }
        const out: Record<string, string> = {};
        answer.headers.forEach((v, k) => (out[k] = v));
        delete out['content-length'];
        delete out['transfer-encoding'];
        res.writeHead(answer.status, out).end(body);
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('sandbox host as Flex: the Event Grid blob trigger', () => {
  let host: RunningHost;
  let watch: ContainerClient;
  let proxy: { url: string; server: Server };
  const topics: RunningTopic[] = [];

  beforeAll(async () => {
    ensureBuilt();
    watch = await freshContainer('egwatch');
    const conn = testStorage().connectionString;
    host = await startHost({
      appDir: fixture('eventgrid-app'),
      settings: {
        AzureWebJobsStorage: conn,
        WATCH_STORAGE: conn,
        WATCH_CONTAINER: watch.containerName,
        AzureFunctionsWebHost__hostid: `egtest${Date.now()}`,
      },
      plan: 'flex',
    });
    proxy = await flakyProxy(host.url, 1);
  });
  afterAll(async () => {
    for (const t of topics) await t.stop();
    proxy?.server.close();
    await host?.stop();
  });

  it('validates the subscription, retries a failed delivery, and fires once per version (Event Grid schema)', async () => {
    const topic = await startEventGridTopic({
      container: watch,
      endpoint: `${proxy.url}/runtime/webhooks/blobs?functionName=${FUNCTION_ID}&code=${host.keys!.system.blobs_extension}`,
      schema: 'EventGridSchema',
      subjectEndsWith: '.zip',
      retryDelaysMs: [0, 0, 0],
    });
    topics.push(topic);
    const uploaded = await watch.getBlockBlobClient('one.zip').upload('zip', 3);
    await watch.getBlockBlobClient('notes.txt').upload('x', 1);
    await waitFor('the delivery', () => (topic.deliveries.length > 0 ? true : undefined));
    await topic.idle();
    // The first answer was lost (500 after the host took it): Event Grid sends it again.
    expect(topic.deliveries).toEqual([
      expect.objectContaining({
        subject: expect.stringMatching(/\/blobs\/one\.zip$/),
        attempts: 2,
        result: 'delivered',
        statuses: [500, 202],
      }),
    ]);
    const first = await waitFor('the function', () => (fired(host).length > 0 ? fired(host) : undefined));
    expect(first).toEqual([
      {
        name: 'one',
        etag: uploaded.etag,
        ref: { Connection: 'WATCH_STORAGE', ContainerName: watch.containerName, BlobName: 'one.zip' },
      },
    ]);
    expect(host.logs().some((l) => /already received for 'onZipEvent'; not fired again/.test(l.message))).toBe(true);
    await topic.stop();
  });

  it('takes the CloudEvents schema after its OPTIONS handshake, fires for a new version, and not again for a redelivery', async () => {
    const endpoint = `${host.url}/runtime/webhooks/blobs?functionName=${FUNCTION_ID}&code=${host.keys!.system.blobs_extension}`;
    const topic = await startEventGridTopic({ container: watch, endpoint, schema: 'CloudEventSchemaV1_0' });
    topics.push(topic);
    const second = await watch.getBlockBlobClient('one.zip').upload('zip v2', 6);
    await waitFor('the new version to fire', () => fired(host).find((f) => f.etag === second.etag));
    await topic.idle();
    expect(topic.deliveries.at(-1)).toMatchObject({ attempts: 1, result: 'delivered', statuses: [202] });

    // The same event again, as at-least-once delivery may: accepted, nothing fires.
    const before = host.logs().filter((l) => /already received/.test(l.message)).length;
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify({
        specversion: '1.0',
        type: 'Microsoft.Storage.BlobCreated',
        source: 'sandbox',
        id: 'again',
        subject: `/blobServices/default/containers/${watch.containerName}/blobs/one.zip`,
        data: { eTag: second.etag },
      }),
    });
    expect(res.status).toBe(202);
    expect(host.logs().filter((l) => /already received/.test(l.message)).length).toBe(before + 1);
    expect(fired(host).filter((f) => f.etag === second.etag)).toHaveLength(1);
    await topic.stop();
  });

  it('refuses a handshake the endpoint does not answer, and a function name it does not serve', async () => {
    await expect(
      startEventGridTopic({
        container: watch,
        endpoint: `${host.url}/runtime/webhooks/blobs?functionName=Host.Functions.nope&code=${host.keys!.system.blobs_extension}`,
      }),
    ).rejects.toThrow(/Webhook validation handshake failed .* answered 404/);
  });

  it('the webhook takes the blob extension’s system key (or the master key), as on Azure: no key, a host key or the Durable key gets 401', async () => {
    const keys = host.keys!;
    const base = `${host.url}/runtime/webhooks/blobs?functionName=${FUNCTION_ID}`;
    for (const code of [undefined, keys.host.default!, keys.system.durabletask_extension!]) {
      await expect(
        startEventGridTopic({ container: watch, endpoint: code ? `${base}&code=${code}` : base }),
      ).rejects.toThrow(/Webhook validation handshake failed .* answered 401/);
    }
    for (const code of [keys.system.blobs_extension!, keys.master]) {
      const topic = await startEventGridTopic({ container: watch, endpoint: `${base}&code=${code}` });
      await topic.stop();
    }
  });
});
