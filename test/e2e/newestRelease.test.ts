/**
 * The newest release wins (README, Guarantees): two zips of one app dropped at once, an older
 * and a newer build. Whichever order their runs take, the Store ends with the newer build, and
 * each run says what happened to its zip; the older build dropped again later is not submitted
 * and names the run that delivered the newer one.
 */
import { SEED_IDS } from '../../sandbox/emulator';
import type { StatusDocument } from '../../lib/statusDocument';
import { goodZip, packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { apiSubmissionsOf, fileStatuses, requestsOf, runIdOf, stepsOf } from './support';

const packageOf = (version: string) => `packages/Contoso.Demo_${version}_x64.msixupload`;

function releaseZip(version: string): Buffer {
  const fileName = packageOf(version);
  return goodZip(
    {
      target: { kind: 'app', applicationId: SEED_IDS.demoApp },
      submission: {
        listings: { 'en-us': { baseListing: { releaseNotes: `Version ${version}.` } } },
        applicationPackages: [{ fileName }],
      },
    },
    { [fileName]: packageFor(fileName) },
  );
}

describe('the newest release wins', () => {
  let sandbox: TestSandbox;
  // The settle time lets both runs join the queue before either takes its turn.
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: { QUEUE_SETTLE_SECONDS: '30' } });
  });
  afterAll(() => sandbox?.stop());

  it('two zips dropped at once: the Store ends with the newer build, the older is superseded or went first', async () => {
    const seeded = apiSubmissionsOf(await sandbox.emulator.admin.state(), SEED_IDS.demoApp).map((s) => s.id);
    // The older build has the earlier name, so it sorts first among uploads of one second.
    const [olderEtag, newerEtag] = await Promise.all([
      sandbox.drop('releases/a-2.0.zip', releaseZip('2.0.0.0')),
      sandbox.drop('releases/b-2.1.zip', releaseZip('2.1.0.0')),
    ]);
    const olderId = runIdOf(sandbox, 'releases/a-2.0.zip', olderEtag);
    const newerId = runIdOf(sandbox, 'releases/b-2.1.zip', newerEtag);
    const [older, newer] = await Promise.all([sandbox.finished(olderId), sandbox.finished(newerId)]);

    expect(newer).toMatchObject({
      status: 'Succeeded',
      outcome: 'Succeeded',
      release: { line: 'app', version: '2.1.0.0' },
    });
    const submissions = apiSubmissionsOf(await sandbox.emulator.admin.state(), SEED_IDS.demoApp, seeded);
    const last = submissions.find((s) => s.id === newer.submissionId)!;
    expect(['PendingUpload', 'Uploaded']).toContain(fileStatuses(last)[packageOf('2.1.0.0')]);
    expect(fileStatuses(last)).not.toHaveProperty([packageOf('2.0.0.0')]);
    // The older run either saw the newer one waiting behind it (the usual case), or, on a machine
    // so slow that the newer run joined the queue only after the older had its turn, went first.
    if (older.outcome === 'Superseded') {
      expect(older).toMatchObject({
        status: 'Succeeded',
        supersededBy: { instanceId: newerId, version: '2.1.0.0' },
      });
      expect(older.submissionId).toBeUndefined();
      expect(stepsOf(older)).not.toContain('createSubmission');
      expect(submissions.map((s) => s.id)).toEqual([newer.submissionId]);
    } else {
      expect(older).toMatchObject({ outcome: 'Succeeded' });
      expect(newer.waitedFor).toEqual([olderId]);
    }

    // The older build again, now that the newer one is delivered: nothing reaches the Store.
    const requestsBefore = requestsOf(await sandbox.emulator.admin.state()).length;
    const againEtag = await sandbox.drop('releases/a-2.0-again.zip', releaseZip('2.0.0.0'));
    const again: StatusDocument = await sandbox.finished(runIdOf(sandbox, 'releases/a-2.0-again.zip', againEtag));
    expect(again).toMatchObject({
      status: 'Succeeded',
      phase: 'Succeeded',
      outcome: 'Superseded',
      release: { line: 'app', version: '2.0.0.0' },
      supersededBy: {
        instanceId: newerId,
        version: '2.1.0.0',
        because: 'committed',
        message: expect.stringContaining(`run ${newerId} already brought version 2.1.0.0 of this product to the Store`),
      },
    });
    expect(stepsOf(again)).toEqual([
      'getRunSettings',
      'validateZip',
      'waitForTurn',
      'superseded',
      'writeReport',
      'leaveTurn',
    ]);
    expect(requestsOf(await sandbox.emulator.admin.state()).length).toBe(requestsBefore);
    const report = JSON.parse((await sandbox.reports.getBlobClient(again.reportBlob!).downloadToBuffer()).toString());
    expect(report).toMatchObject({ outcome: 'Superseded', supersededBy: { instanceId: newerId } });
  });
});
