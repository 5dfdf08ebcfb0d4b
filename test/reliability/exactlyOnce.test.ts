/**
 * Guarantee 1: one zip, one run, one Store submission, however often the start is asked for.
 * A second delivery of the blob trigger is made honestly: the host is killed mid-run, the
 * blob's receipt deleted, and a new host on the same storage finds the blob version again and
 * fires for it; HTTP starts for the same blob come on top, during the run, racing the trigger,
 * and after the run.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { ZIP_METADATA } from '../../lib/storage';
import { findLeakedSecrets } from '../helpers/secrets';
import {
  apiSubmissions,
  appIds,
  appZip,
  commitCalls,
  createCalls,
  runIdOf,
  runsOfBlob,
  seedApp,
  seedOf,
  startReliabilitySandbox,
  until,
  type ReliabilitySandbox,
} from './support';

const [redelivered, raced] = appIds('ONCE', 2) as [string, string];

describe('exactly once', () => {
  let sandbox: ReliabilitySandbox;
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({ emulator: { seed: seedOf([seedApp(redelivered), seedApp(raced)]) } });
  });
  afterAll(() => sandbox?.stop());

  const receipts = () =>
    BlobServiceClient.fromConnectionString(sandbox.settings.AzureWebJobsStorage!).getContainerClient(
      'azure-webjobs-hosts',
    );

  /** The receipt of one blob version, as the host names it. */
  function receiptName(name: string, etag: string): string {
    const quoted = etag.startsWith('"') ? etag : `"${etag}"`;
    return `blobreceipts/${sandbox.settings.AzureFunctionsWebHost__hostid}/Host.Functions.submissionBlobTrigger/${quoted}/${sandbox.submissions.containerName}/${name}`;
  }

  function firings(name: string): string[] {
    const detected = `${sandbox.submissions.containerName}/${name}'`;
    return sandbox.logs
      .filter((l) => l.message.includes('New blob detected') && l.message.includes(detected))
      .map((l) => l.message);
  }

  it('starts one run and makes one submission when the trigger is delivered twice and HTTP asks too', async () => {
    const name = 'once/redelivered.zip';
    // The Store holds the commit, so the run is still going when the trigger fires again.
    const hold = await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'CommitStarted', productId: redelivered });
    const zip = appZip(redelivered);
    const etag = await sandbox.drop(name, zip);
    const runId = runIdOf(sandbox, name, etag);
    await sandbox.waitFor(runId, (d) => d.phase === 'WaitingForStore');

    // The first delivery completes: its receipt says so (written after the trigger function
    // returned, so not necessarily before the run got this far).
    const receipt = receipts().getBlobClient(receiptName(name, etag));
    const completed = async () => {
      const props = await receipt.getProperties().catch(() => undefined);
      return props?.metadata?.iscompleted === 'true';
    };
    await until('the first delivery to finish', completed);

    // A crash, and the receipt gone: the new host must fire again for this very version.
    await sandbox.killHost();
    await receipt.delete();
    const firedBefore = firings(name).length;
    await sandbox.startHostAgain();
    await until('the trigger to fire again', async () => firings(name).length > firedBefore);
    await until('the second delivery to finish', completed);
    // Its log line comes over the host's stdout, which may arrive after storage's answer.
    await until('the second delivery to find the run', async () =>
      sandbox.logs.some((l) => l.message.includes(`[${runId}] already has`)),
    );

    // HTTP start for the same blob while the run goes on: the same run.
    const during = await sandbox.api('POST', '/api/submissions', { blob: name });
    expect(during.status).toBe(202);
    expect(during.body).toMatchObject({ id: runId, started: false });

    await sandbox.emulator.admin.removeFault(hold.id);
    const doc = await sandbox.finished(runId);
    expect({ status: doc.status, failure: doc.failure }).toEqual({ status: 'Succeeded', failure: undefined });

    // After the run: the zip is stamped with its run, and HTTP still gets that run.
    const props = await sandbox.submissions.getBlobClient(name).getProperties();
    expect(props.metadata?.[ZIP_METADATA.instanceId]).toBe(runId);
    const after = await sandbox.api('POST', '/api/submissions', { blob: name });
    expect(after.body).toMatchObject({ id: runId, started: false });

    expect(await runsOfBlob(sandbox, name)).toEqual([runId]);
    const state = await sandbox.emulator.admin.state();
    expect(createCalls(state, redelivered)).toHaveLength(1);
    expect(commitCalls(state, redelivered)).toHaveLength(1);
    expect(apiSubmissions(state, redelivered).map((s) => s.id)).toEqual([doc.submissionId]);
  });

  it('starts one run when an HTTP start races the blob trigger for a new zip', async () => {
    const name = 'once/raced.zip';
    const zip = appZip(raced);
    const etag = await sandbox.drop(name, zip);
    const runId = runIdOf(sandbox, name, etag);
    const answers = await Promise.all([0, 1, 2].map(() => sandbox.api('POST', '/api/submissions', { blob: name })));
    for (const a of answers) expect({ status: a.status, id: a.body.id }).toEqual({ status: 202, id: runId });
    const doc = await sandbox.finished(runId);
    expect(doc.status).toBe('Succeeded');
    await until('the trigger to have fired', async () => firings(name).length > 0);

    expect(await runsOfBlob(sandbox, name)).toEqual([runId]);
    const state = await sandbox.emulator.admin.state();
    expect(createCalls(state, raced)).toHaveLength(1);
    expect(apiSubmissions(state, raced)).toHaveLength(1);
  });

  it('leaks no secret anywhere', async () => {
    const texts = sandbox.responses.map((r) => ({ where: r.url, text: r.body }));
    expect(await findLeakedSecrets(sandbox, { texts, taskHub: sandbox.taskHub })).toEqual([]);
  });
});
