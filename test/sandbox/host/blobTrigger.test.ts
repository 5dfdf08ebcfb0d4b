import { QueueServiceClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import { startHost, type HostLogLine, type RunningHost } from '../../../sandbox/host';
import { freshContainer, testStorage } from '../../helpers/azurite';
import { ensureBuilt, fixture, waitFor } from './hostHelpers';

interface BlobSeen {
  name: string;
  blobTrigger: string;
  etag: string;
  length: number;
  isBuffer: boolean;
  text: string | null;
  metadata: Record<string, string>;
  uri: string;
}

function seen(lines: HostLogLine[], prefix: string): Array<{ line: HostLogLine; data: Record<string, unknown> }> {
  return lines
    .filter((l) => l.message.startsWith(prefix))
    .map((l) => ({ line: l, data: JSON.parse(l.message.slice(prefix.length)) as Record<string, unknown> }));
}

describe('sandbox host: blob trigger', () => {
  let watch: ContainerClient;
  let sdk: ContainerClient;
  let poison: ContainerClient;
  let settings: Record<string, string>;
  const hostId = `blobtest${Date.now()}`;
  const start = (): Promise<RunningHost> =>
    startHost({ appDir: fixture('blob-app'), settings, blobPollIntervalMs: 200 });

  beforeAll(async () => {
    ensureBuilt();
    [watch, sdk, poison] = await Promise.all([
      freshContainer('watch'),
      freshContainer('sdk'),
      freshContainer('poison'),
    ]);
    const { connectionString } = testStorage();
    settings = {
      AzureWebJobsStorage: connectionString,
      WATCH_STORAGE: connectionString,
      WATCH_CONTAINER: watch.containerName,
      SDK_CONTAINER: sdk.containerName,
      POISON_CONTAINER: poison.containerName,
      AzureFunctionsWebHost__hostid: hostId,
    };
  });

  it('fires once per blob version, again for a new upload, and not again after a restart', async () => {
    await watch.getBlockBlobClient('first.zip').upload('one', 3, { metadata: { origin: 'test' } });
    await watch.getBlockBlobClient('ignored.txt').upload('x', 1);
    let host = await start();
    try {
      const first = await waitFor('first.zip to fire', () =>
        seen(host.logs(), 'BLOB ').find((s) => s.data.name === 'first'),
      );
      const data = first.data as unknown as BlobSeen;
      const props = await watch.getBlobClient('first.zip').getProperties();
      expect(data).toMatchObject({
        name: 'first',
        blobTrigger: `${watch.containerName}/first.zip`,
        etag: props.etag,
        length: 3,
        isBuffer: true,
        text: 'one',
        metadata: { origin: 'test' },
        uri: watch.getBlobClient('first.zip').url,
      });
      expect(first.line.category).toBe('onZip');

      // New version of the same name: fires again, with the new ETag.
      await watch.getBlockBlobClient('first.zip').upload('second version', 14);
      const newEtag = (await watch.getBlobClient('first.zip').getProperties()).etag;
      await waitFor('the new version to fire', () => seen(host.logs(), 'BLOB ').find((s) => s.data.etag === newEtag));
      // A few more scans: nothing fires twice, the .txt never fires.
      await new Promise((r) => setTimeout(r, 700));
      const fired = seen(host.logs(), 'BLOB ');
      expect(fired.map((s) => s.data.etag)).toEqual([props.etag, newEtag]);

      // The receipt of each version sits where the Functions host keeps them, completed once the
      // function has returned (which may be after the test saw its log line).
      const hosts = (await import('@azure/storage-blob')).BlobServiceClient.fromConnectionString(
        testStorage().connectionString,
      ).getContainerClient('azure-webjobs-hosts');
      const listReceipts = async (): Promise<string[]> => {
        const receipts: string[] = [];
        for await (const r of hosts.listBlobsFlat({
          prefix: `blobreceipts/${hostId}/Host.Functions.onZip/`,
          includeMetadata: true,
        }))
          receipts.push(`${r.name} ${r.metadata?.iscompleted}`);
        return receipts.sort();
      };
      const expected = [
        `blobreceipts/${hostId}/Host.Functions.onZip/${props.etag}/${watch.containerName}/first.zip true`,
        `blobreceipts/${hostId}/Host.Functions.onZip/${newEtag}/${watch.containerName}/first.zip true`,
      ].sort();
      let receipts: string[] = [];
      await waitFor('both receipts to be completed', async () => {
        receipts = await listReceipts();
        return receipts.every((r) => r.endsWith(' true')) && receipts.length >= expected.length ? receipts : undefined;
      });
      expect(receipts).toEqual(expected);
    } finally {
      await host.stop();
    }

    // Restart: old versions stay quiet, a blob added while the host was down fires.
    await watch.getBlockBlobClient('while-down.zip').upload('zz', 2);
    host = await start();
    try {
      await waitFor('while-down.zip to fire', () =>
        seen(host.logs(), 'BLOB ').find((s) => s.data.name === 'while-down'),
      );
      await new Promise((r) => setTimeout(r, 600));
      expect(seen(host.logs(), 'BLOB ').map((s) => s.data.name)).toEqual(['while-down']);
    } finally {
      await host.stop();
    }
  });

  it('hands modelBindingData to the registered resource factory for an sdkBinding trigger', async () => {
    await sdk.getBlockBlobClient('deferred.zip').upload('not read by the host', 20);
    const host = await start();
    try {
      const got = await waitFor('the sdk trigger to fire', () => seen(host.logs(), 'SDK ')[0]);
      expect(got.data).toEqual({
        fakeClient: true,
        version: '1.0',
        source: 'AzureStorageBlobs',
        contentType: 'application/json',
        content: { Connection: 'WATCH_STORAGE', ContainerName: sdk.containerName, BlobName: 'deferred.zip' },
      });
    } finally {
      await host.stop();
    }
  });

  it('tries a failing blob five times, then sends it to the poison queue', async () => {
    await poison.getBlockBlobClient('bad.bin').upload('x', 1);
    const etag = (await poison.getBlobClient('bad.bin').getProperties()).etag;
    const host = await start();
    try {
      await waitFor('the poison message', () =>
        host.logs().find((l) => l.message.includes("moved to queue 'webjobs-blobtrigger-poison'")),
      );
      const failures = host.logs().filter((l) => l.message.startsWith("Executed 'Functions.alwaysFails' (Failed"));
      expect(failures).toHaveLength(5);
      expect(failures[0]?.message).toContain('cannot handle bad.bin');
      const queue = QueueServiceClient.fromConnectionString(testStorage().connectionString).getQueueClient(
        'webjobs-blobtrigger-poison',
      );
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
      const messages = receivedMessageItems.map(
        (m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as Record<string, string>,
      );
      expect(messages).toContainEqual({
        Type: 'BlobTrigger',
        FunctionId: 'Host.Functions.alwaysFails',
        BlobType: 'BlockBlob',
        ContainerName: poison.containerName,
        BlobName: 'bad.bin',
        ETag: etag,
      });
    } finally {
      await host.stop();
    }
  });
});
