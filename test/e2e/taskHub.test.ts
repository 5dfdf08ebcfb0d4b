/**
 * The task hub comes from the TASK_HUB_NAME app setting (host.json `"hubName": "%TASK_HUB_NAME%"`),
 * on either engine: the host resolves it as the Functions host does, and a run's state lands in
 * that hub's storage and nowhere else.
 */
import { randomBytes } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import { SEED_IDS } from '../../sandbox/emulator';
import { containerNameFor } from '../../sandbox/host/storage';
import { instanceIdFor } from '../../lib/instanceId';
import { goodZip, packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { ON_REAL_ENGINE } from '../helpers/engine';

const PACKAGE = 'packages/Contoso.Demo_4.0.0.0_x64.msixupload';

/** Whether the hub's own storage holds the instance: the extension's Instances table, or the home engine's container. */
async function hubHolds(sandbox: TestSandbox, hub: string, instanceId: string): Promise<boolean> {
  const conn = sandbox.settings.AzureWebJobsStorage!;
  if (ON_REAL_ENGINE) {
    const table = TableClient.fromConnectionString(conn, `${hub}Instances`, { allowInsecureConnection: true });
    try {
      await table.getEntity(instanceId, '');
      return true;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return false;
      throw e;
    }
  }
  const container = BlobServiceClient.fromConnectionString(conn).getContainerClient(
    containerNameFor(hub, 'sandboxhost'),
  );
  // one blob per instance (sandbox/host/durable/engine.ts, blobName)
  return container.getBlobClient(`instances/${encodeURIComponent(instanceId)}.json`).exists();
}

describe('the task hub from the TASK_HUB_NAME app setting', () => {
  let sandbox: TestSandbox;
  const hub = `StoreSubmitter${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    // No taskHub option: the hub is the setting's, as in Azure.
    sandbox = await startTestSandbox({ host: { taskHub: undefined }, settings: { TASK_HUB_NAME: hub } });
  });
  afterAll(() => sandbox?.stop());

  it('runs a dropped zip on that hub and keeps its state in the hub storage', async () => {
    const named = sandbox.logs.map((l) => l.message).filter((m) => /task hub '/i.test(m));
    expect(named.some((m) => m.includes(`task hub '${hub}'`) || m.includes(`Task hub '${hub}'`))).toBe(true);

    const zip = goodZip(
      {
        target: { kind: 'app', applicationId: SEED_IDS.demoApp },
        submission: { applicationPackages: [{ fileName: PACKAGE }] },
      },
      { [PACKAGE]: packageFor(PACKAGE) },
    );
    const etag = await sandbox.drop('hub/contoso-4.0.zip', zip);
    const instanceId = instanceIdFor(sandbox.submissions.containerName, 'hub/contoso-4.0.zip', etag);
    expect((await sandbox.finished(instanceId)).status).toBe('Succeeded');
    expect(await hubHolds(sandbox, hub, instanceId)).toBe(true);
    // the sandbox's default hub does not have it
    expect(await hubHolds(sandbox, 'StoreSubmitterSandbox', instanceId)).toBe(false);
  });
});
