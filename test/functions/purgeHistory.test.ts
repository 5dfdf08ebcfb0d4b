/**
 * The scheduled purge of Durable history, fired by hand through the host's admin API as an
 * operator would (`POST /admin/functions/purgeHistory`, the master key, `{"input": ""}`). With
 * HISTORY_RETENTION_DAYS=0 the cutoff is the moment of the purge, so every run that has ended is
 * old enough: their history goes, the run still uploading stays, and every report stays.
 */
import { SEED_IDS } from '../../sandbox/emulator';
import { instanceIdFor } from '../../lib/instanceId';
import { goodZip, packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { eventually } from '../helpers/eventually';
import { E2E_SETTINGS } from '../e2e/support';

let build = 0;
function appZip(options: Record<string, unknown> = {}): Buffer {
  const PACKAGE = `packages/ContosoDemo_5.0.${++build}.0_x64.msixupload`;
  return goodZip(
    {
      target: { kind: 'app', applicationId: SEED_IDS.demoApp },
      submission: { applicationPackages: [{ fileName: PACKAGE }] },
      options,
    },
    { [PACKAGE]: packageFor(PACKAGE) },
  );
}

describe('the scheduled history purge', () => {
  let sandbox: TestSandbox;

  beforeAll(async () => {
    sandbox = await startTestSandbox({
      host: { enforceKeys: {} },
      settings: { ...E2E_SETTINGS, HISTORY_RETENTION_DAYS: '0' },
    });
  });
  afterAll(() => sandbox?.stop());

  async function drop(name: string, zip: Buffer): Promise<string> {
    const etag = await sandbox.drop(name, zip);
    return instanceIdFor(sandbox.submissions.containerName, name, etag);
  }

  const invoke = (key: string | undefined, body: unknown = { input: '' }): Promise<Response> =>
    fetch(`${sandbox.host.url}/admin/functions/purgeHistory`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
      body: JSON.stringify(body),
    });

  it('purges the history of ended runs older than the retention, keeps running ones and every report', async () => {
    const ended = [await drop('purge/a.zip', appZip({ dryRun: true })), await drop('purge/b.zip', appZip())];
    const docs = await Promise.all(ended.map((id) => sandbox.finished(id)));
    for (const doc of docs) expect(doc.reportBlob).toBeTruthy();

    // This one's upload never gets an answer: it is still running when the purge comes.
    await sandbox.emulator.admin.fault({ match: { server: 'upload' }, hang: true, times: 'always' });
    const running = await drop('purge/running.zip', appZip());
    await sandbox.waitFor(running, (d) => d.phase === 'Uploading');

    // The admin API is the master key's: no key and a host key are refused, and nothing runs.
    expect((await invoke(undefined)).status).toBe(401);
    expect((await invoke(sandbox.host.keys!.host.default)).status).toBe(401);
    const accepted = await invoke(sandbox.host.keys!.master);
    expect(accepted.status).toBe(202);

    const logged = await eventually('the purge to log its count', () =>
      sandbox.logs.find((l) => /^History purge: \d+ instance\(s\)/.test(l.message)),
    );
    const count = Number(/^History purge: (\d+)/.exec(logged.message)![1]);
    // the two runs at least (and their followers, notifications)
    expect(count).toBeGreaterThanOrEqual(2);

    for (const id of ended) expect(await sandbox.status(id)).toBeUndefined();
    expect((await sandbox.status(running))?.status).toBe('Running');
    for (const doc of docs) expect(await sandbox.reports.getBlobClient(doc.reportBlob!).exists()).toBe(true);
  });

  it('answers 404 for a function that does not exist and 400 for a body without a string input', async () => {
    const master = sandbox.host.keys!.master;
    const unknown = await fetch(`${sandbox.host.url}/admin/functions/noSuchFunction`, {
      method: 'POST',
      headers: { 'x-functions-key': master },
      body: '{"input":""}',
    });
    expect(unknown.status).toBe(404);
    expect((await invoke(master, { input: 5 })).status).toBe(400);
  });
});
