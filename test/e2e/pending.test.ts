/**
 * A pending submission the Store is processing is never deleted (the Store answers 409, and it
 * may be a release in certification): the next run waits for it, says what it waits for, and
 * goes on once it is published; or fails at once when the manifest says "fail", or at its deadline.
 */
import { SEED_IDS, type EmulatorState } from '../../sandbox/emulator';
import { itOnFastClock } from '../helpers/engine';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { goodZip, packageFor } from '../helpers/zips';
import { apiSubmissionsOf, dropAndFinish, requestsOf, runIdOf, type Json, E2E_SETTINGS } from './support';

const APP = SEED_IDS.demoApp;

function packageOf(version: string): string {
  return `packages/Contoso.Demo_${version}_x64.msixupload`;
}

function zipOf(version: string, options: Json = {}, submission: Json = {}): Buffer {
  const file = packageOf(version);
  return goodZip(
    {
      target: { kind: 'app', applicationId: APP },
      submission: { applicationPackages: [{ fileName: file }], ...submission },
      options,
    },
    { [file]: packageFor(file) },
  );
}

/** Every DELETE that reached a submission of the app. */
function deletes(state: EmulatorState): string[] {
  return requestsOf(state, new RegExp(`^DELETE .*/applications/${APP}/submissions/`, 'i'));
}

function ours(state: EmulatorState) {
  return apiSubmissionsOf(state, APP, [SEED_IDS.demoAppPublishedSubmission]);
}

function statusTime(state: EmulatorState, submissionId: string, status: string): string {
  const entry = state.submissions.find((s) => s.id === submissionId)?.statusHistory.find((h) => h.status === status);
  if (!entry) throw new Error(`submission ${submissionId} never was ${status}`);
  return entry.at;
}

describe('a pending submission the Store is processing', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: E2E_SETTINGS });
  });
  afterAll(() => sandbox?.stop());
  // The emulator starts each test afresh, the run's queue does not: it remembers the highest version
  // delivered per app, and a zip not above it is superseded before it reaches the Store. So each
  // test ships versions above those of the tests before it.
  beforeEach(() => sandbox.emulator.admin.reset('default'));

  /** Drops `zip` and waits until its run is committed and done; the submission it made is held in Certification. */
  async function firstInCertification(zip: Buffer): Promise<{ submissionId: string; faultId: string }> {
    const fault = await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'Certification', productId: APP });
    const etag = await sandbox.drop('releases/first.zip', zip);
    const doc = await sandbox.finished(runIdOf(sandbox, 'releases/first.zip', etag));
    expect(doc.status).toBe('Succeeded');
    return { submissionId: doc.submissionId!, faultId: fault.id };
  }

  it('is waited for: two zips one after the other both end published, in order, and no DELETE reaches a submission', async () => {
    const first = await firstInCertification(zipOf('2.0.0.0'));
    const etag = await sandbox.drop('releases/second.zip', zipOf('3.0.0.0', { waitFor: 'published' }));
    const secondId = runIdOf(sandbox, 'releases/second.zip', etag);

    // The second run says what it waits for: that submission, with its Store status.
    const waiting = await sandbox.waitFor(
      secondId,
      (d) => d.phase === 'WaitingForPendingSubmission' && d.pendingWait?.storeStatus === 'Certification',
    );
    expect(waiting.status).toBe('Running');
    expect(waiting.pendingWait).toMatchObject({ submissionId: first.submissionId, storeStatus: 'Certification' });
    expect(waiting.pendingWait!.message).toContain(`${first.submissionId} (Store status Certification)`);
    expect(waiting.submissionId).toBeUndefined();
    expect(ours(await sandbox.emulator.admin.state()).map((s) => s.id)).toEqual([first.submissionId]);

    await sandbox.emulator.admin.removeFault(first.faultId);
    const done = await sandbox.finished(secondId);
    expect(done).toMatchObject({ status: 'Succeeded', storeStatus: 'Published' });
    expect(done.pendingWait).toBeUndefined();
    expect(done.waitedForSubmissions).toEqual([first.submissionId]);
    expect(done.timeline.find((s) => s.step === 'waitFor:pendingSubmission')).toMatchObject({
      result: 'ok',
      detail: expect.stringContaining(`${first.submissionId} ended Published`),
    });

    const state = await sandbox.emulator.admin.state();
    const made = ours(state);
    expect(made.map((s) => s.id)).toEqual([first.submissionId, done.submissionId]);
    expect(made.map((s) => s.status)).toEqual(['Published', 'Published']);
    // In order: the second was created only after the first was published.
    expect(
      statusTime(state, done.submissionId!, 'PendingCommit') >= statusTime(state, first.submissionId, 'Published'),
    ).toBe(true);
    expect(deletes(state)).toEqual([]);
  });

  it('with options.pendingSubmission "fail", stops at once naming that submission and its status, and creates nothing', async () => {
    const first = await firstInCertification(zipOf('4.0.0.0'));
    const { doc } = await dropAndFinish(
      sandbox,
      'releases/refused.zip',
      {
        target: { kind: 'app', applicationId: APP },
        submission: { applicationPackages: [{ fileName: packageOf('5.0.0.0') }] },
        options: { pendingSubmission: 'fail' },
      },
      { [packageOf('5.0.0.0')]: packageFor(packageOf('5.0.0.0')) },
    );
    expect(doc.status).toBe('Failed');
    expect(doc.failure?.facts.code).toBe('PendingSubmissionExists');
    expect(doc.failure?.message).toContain(`${first.submissionId}, made through the API, Store status Certification`);
    expect(doc.failure?.message).toMatch(/refuses to delete it/);
    expect(doc.timeline.map((s) => s.step)).not.toContain('waitFor:pendingSubmission');
    const state = await sandbox.emulator.admin.state();
    expect(ours(state).map((s) => [s.id, s.status])).toEqual([[first.submissionId, 'Certification']]);
    expect(deletes(state)).toEqual([]);
  });

  it('in Release for a manual publish: the run says it waits for a person, and goes on once Partner Center publishes it', async () => {
    const first = await firstInCertification(zipOf('6.0.0.0', {}, { targetPublishMode: 'Manual' }));
    await sandbox.emulator.admin.removeFault(first.faultId);
    const etag = await sandbox.drop(
      'releases/after-manual.zip',
      zipOf('7.0.0.0', { waitFor: 'published' }, { targetPublishMode: 'Immediate' }),
    );
    const secondId = runIdOf(sandbox, 'releases/after-manual.zip', etag);
    const waiting = await sandbox.waitFor(
      secondId,
      (d) => d.pendingWait?.storeStatus === 'Release' && d.pendingWait.polls !== undefined,
    );
    expect(waiting.pendingWait!.message).toMatch(/waits in Release for someone to publish it in Partner Center/);
    expect(deletes(await sandbox.emulator.admin.state())).toEqual([]);

    await sandbox.emulator.admin.publish(first.submissionId);
    const done = await sandbox.finished(secondId);
    expect(done).toMatchObject({ status: 'Succeeded', storeStatus: 'Published' });
    expect(done.waitedForSubmissions).toEqual([first.submissionId]);
    expect(deletes(await sandbox.emulator.admin.state())).toEqual([]);
  });
});

describe('waiting for a pending submission past the deadline', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    // An hour of durable time (the shortest PUBLISH_DEADLINE_HOURS) passes in seconds on this clock.
    sandbox = await startTestSandbox({
      host: { clockSpeed: 1200 },
      settings: {
        ...E2E_SETTINGS,
        PUBLISH_DEADLINE_HOURS: '1',
        POLL_FIRST_INTERVAL_SECONDS: '60',
        POLL_MAX_INTERVAL_SECONDS: '600',
      },
    });
  });
  afterAll(() => sandbox?.stop());

  itOnFastClock('fails and says so: what it waited for, until when, and that nothing was created', async () => {
    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'Certification', productId: APP });
    const first = await dropAndFinish(
      sandbox,
      'releases/stuck.zip',
      {
        target: { kind: 'app', applicationId: APP },
        submission: { applicationPackages: [{ fileName: packageOf('2.0.0.0') }] },
      },
      { [packageOf('2.0.0.0')]: packageFor(packageOf('2.0.0.0')) },
    );
    expect(first.doc.status).toBe('Succeeded');
    const pendingId = first.doc.submissionId!;

    const { doc } = await dropAndFinish(
      sandbox,
      'releases/late.zip',
      {
        target: { kind: 'app', applicationId: APP },
        submission: { applicationPackages: [{ fileName: packageOf('3.0.0.0') }] },
      },
      { [packageOf('3.0.0.0')]: packageFor(packageOf('3.0.0.0')) },
    );
    expect(doc.status).toBe('Failed');
    expect(doc.failure?.facts.code).toBe('PendingSubmissionStillProcessing');
    expect(doc.failure?.message).toContain(`${pendingId} (Store status Certification)`);
    expect(doc.failure?.message).toMatch(/waited until its deadline \(.+\).*Nothing was created/);
    expect(doc.timeline.find((s) => s.step === 'waitFor:pendingSubmission')?.result).toBe('failed');
    const state = await sandbox.emulator.admin.state();
    expect(ours(state).map((s) => [s.id, s.status])).toEqual([[pendingId, 'Certification']]);
    expect(deletes(state)).toEqual([]);
  });
});
