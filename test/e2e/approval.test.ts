/**
 * The approval gate end to end (options.commit "approval"): the run uploads its submission and
 * waits, on a durable event raced with a durable timer, for approve (commit), reject (deleted,
 * Rejected), a cancel (deleted, Canceled) or APPROVAL_TIMEOUT_HOURS (deleted, Failed). Nothing
 * is committed unless someone approved, and no submission is left behind.
 */
import { SEED_IDS, type EmulatorState } from '../../sandbox/emulator';
import type { StatusDocument } from '../../lib/statusDocument';
import { packageFor } from '../helpers/zips';
import { functionsApp, startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { runCli } from '../cli/helpers';
import { E2E_SETTINGS, apiSubmissionsOf, requestsOf, runIdOf, stepsOf, type Json } from './support';
import { goodZip } from '../helpers/zips';

const APP = SEED_IDS.demoApp;
let build = 0;

function gatedZip(): Buffer {
  const pkg = `packages/ContosoDemo_2.9.${++build}.0_x64.msixupload`;
  return goodZip(
    {
      target: { kind: 'app', applicationId: APP },
      submission: { applicationPackages: [{ fileName: pkg }], notesForCertification: `gated ${build}` },
      options: { commit: 'approval' },
    },
    { [pkg]: packageFor(pkg) },
  );
}

/** Our submissions of the demo app (the seeded published one left out). */
function ours(state: EmulatorState) {
  return apiSubmissionsOf(state, APP, [SEED_IDS.demoAppPublishedSubmission]);
}

async function post(sandbox: TestSandbox, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await sandbox.host.fetch(`/api/submissions/${path}`, {
    method: 'POST',
    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
}

/** Drops a gated zip and waits until its run waits at the gate. */
async function atTheGate(sandbox: TestSandbox, name: string): Promise<{ id: string; doc: StatusDocument }> {
  const etag = await sandbox.drop(name, gatedZip());
  const id = runIdOf(sandbox, name, etag);
  const doc = await sandbox.waitFor(id, (d) => d.phase === 'AwaitingApproval' && d.approval?.state === 'Waiting');
  return { id, doc };
}

function expectNothingLeft(state: EmulatorState): void {
  expect(requestsOf(state, /\/commit$/)).toEqual([]);
  expect(ours(state)).toEqual([]);
  expect(state.applications.find((a) => a.id === APP)!.pendingApplicationSubmission).toBeUndefined();
}

describe('the approval gate', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: E2E_SETTINGS });
  });
  afterAll(() => sandbox?.stop());
  beforeEach(async () => {
    await sandbox.emulator.admin.reset('default');
    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'PreProcessing' });
  });

  it('waits with the upload done and nothing committed, then commits once approved', async () => {
    const { id, doc } = await atTheGate(sandbox, 'gate/approved.zip');
    expect(doc.approval).toMatchObject({
      partnerCenterUrl: `https://partner.microsoft.com/dashboard/products/${APP}/submissions/${doc.submissionId}`,
    });
    expect(Date.parse(doc.approval!.deadline) - Date.parse(doc.approval!.requestedAt)).toBe(72 * 3_600_000);
    expect(doc.preview?.counts.package).toBe(3);
    let state = await sandbox.emulator.admin.state();
    expect(ours(state).map((s) => s.status)).toEqual(['PendingCommit']);
    expect(requestsOf(state, /\(upload\)/).length).toBeGreaterThan(0);
    expect(requestsOf(state, /\/commit$/)).toEqual([]);

    const approved = await runCli([
      'approve',
      id,
      '--comment',
      'release notes checked',
      '--by',
      'alice',
      ...functionsApp(sandbox),
    ]);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`Approved run ${id}: it commits submission ${doc.submissionId}`);
    const done = await sandbox.finished(id);
    expect(done).toMatchObject({
      status: 'Succeeded',
      outcome: 'Succeeded',
      approval: { state: 'Approved', decision: { approved: true, by: 'alice', comment: 'release notes checked' } },
    });
    const steps = stepsOf(done);
    expect(steps.indexOf('awaitApproval')).toBeGreaterThan(steps.indexOf('uploadPackageZip'));
    expect(steps.indexOf('commitSubmission')).toBeGreaterThan(steps.indexOf('awaitApproval'));
    state = await sandbox.emulator.admin.state();
    expect(requestsOf(state, /\/commit$/)).toHaveLength(1);
    expect(ours(state).map((s) => [s.id, s.status])).toEqual([[done.submissionId, 'PreProcessing']]);
    // A second decision finds no run waiting.
    expect((await post(sandbox, `${id}/reject`, { reason: 'too late' })).body.error).toMatchObject({
      code: 'NotAwaitingApproval',
    });
  });

  it('deletes the submission and ends Rejected, saying who and why', async () => {
    const { id, doc } = await atTheGate(sandbox, 'gate/rejected.zip');
    expect((await post(sandbox, `${id}/reject`, {})).status).toBe(400);
    const rejected = await post(sandbox, `${id}/reject`, { reason: 'wrong screenshots', by: 'bob' });
    expect(rejected).toMatchObject({ status: 202, body: { decision: { approved: false, by: 'bob' } } });
    const done = await sandbox.finished(id);
    expect(done).toMatchObject({
      status: 'Rejected',
      outcome: 'Rejected',
      phase: 'Rejected',
      submissionId: doc.submissionId,
      approval: { state: 'Rejected', decision: { by: 'bob', comment: 'wrong screenshots' } },
    });
    expect(stepsOf(done)).toEqual(expect.arrayContaining(['awaitApproval', 'discardSubmission']));
    expect(stepsOf(done)).not.toContain('commitSubmission');
    expectNothingLeft(await sandbox.emulator.admin.state());
    const report = JSON.parse((await sandbox.reports.getBlobClient(done.reportBlob!).downloadToBuffer()).toString());
    expect(report.approval.decision).toMatchObject({ by: 'bob', comment: 'wrong screenshots' });
    const shown = await runCli(['status', id, '--wait', ...functionsApp(sandbox)]);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain(`Rejected: app ${APP}, submission ${doc.submissionId} deleted, nothing committed.`);
  });

  it('takes a cancel while it waits: the submission is deleted, nothing committed', async () => {
    const { id } = await atTheGate(sandbox, 'gate/canceled.zip');
    expect((await post(sandbox, `${id}/cancel`)).status).toBe(202);
    const done = await sandbox.finished(id);
    expect(done.status).toBe('Canceled');
    expectNothingLeft(await sandbox.emulator.admin.state());
    expect((await post(sandbox, `${id}/approve`)).status).toBe(409);
    expect((await post(sandbox, 'zip-0000000000000000000000000000000000000000/approve')).status).toBe(404);
  });
});

describe('the approval gate, timed out', () => {
  let sandbox: TestSandbox;
  // 36 s of durable time: well under a second on the fast clock.
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: { ...E2E_SETTINGS, APPROVAL_TIMEOUT_HOURS: '0.01' } });
  });
  afterAll(() => sandbox?.stop());

  it('deletes the submission and fails, saying no one decided in time', async () => {
    await sandbox.emulator.admin.reset('default');
    const name = 'gate/timed-out.zip';
    const etag = await sandbox.drop(name, gatedZip());
    const id = runIdOf(sandbox, name, etag);
    const done = await sandbox.finished(id);
    expect(done).toMatchObject({ status: 'Failed', approval: { state: 'TimedOut' } });
    expect(done.failure).toMatchObject({ step: 'awaitApproval', facts: { code: 'ApprovalTimedOut' } });
    expect(done.failure?.message).toContain('within 0.01 hours (APPROVAL_TIMEOUT_HOURS)');
    expect(stepsOf(done)).toEqual(expect.arrayContaining(['uploadPackageZip', 'awaitApproval', 'discardSubmission']));
    expectNothingLeft(await sandbox.emulator.admin.state());
  });
});
