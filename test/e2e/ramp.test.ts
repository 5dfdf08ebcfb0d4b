/**
 * Rollout ramps end to end (options.rollout) on the fast clock: after Published the run applies
 * each later step on a durable timer; pause, resume and halt while it ramps; a rollout changed
 * outside the ramp (here by a newer run with existingRollout "finalize") stops it.
 */
import { SEED_IDS } from '../../sandbox/emulator';
import type { StatusDocument } from '../../lib/statusDocument';
import { itOnFastClock } from '../helpers/engine';
import { goodZip, packageFor } from '../helpers/zips';
import { functionsApp, startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { runCli } from '../cli/helpers';
import { E2E_SETTINGS, requestsOf, runIdOf, stepsOf, storeGet, type Json } from './support';

const APP = SEED_IDS.demoApp;
let build = 0;

function rampZip(rollout: Json[], options: Json = {}): Buffer {
  const pkg = `packages/ContosoDemo_3.1.${++build}.0_x64.msixupload`;
  return goodZip(
    {
      target: { kind: 'app', applicationId: APP },
      submission: { applicationPackages: [{ fileName: pkg }] },
      options: { rollout, ...options },
    },
    { [pkg]: packageFor(pkg) },
  );
}

describe('rollout ramps', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: E2E_SETTINGS });
  });
  afterAll(() => sandbox?.stop());
  beforeEach(() => sandbox.emulator.admin.reset('default'));

  async function start(name: string, zip: Buffer): Promise<string> {
    return runIdOf(sandbox, name, await sandbox.drop(name, zip));
  }

  async function control(id: string, action: string): Promise<number> {
    const response = await sandbox.host.fetch(`/api/submissions/${id}/rollout/${action}`, { method: 'POST' });
    await response.text();
    return response.status;
  }

  /** `store-submitter ramp <action> <run>` against the sandbox's Functions app. */
  const cli = (...args: string[]) => runCli(['ramp', ...args, ...functionsApp(sandbox)]);

  const rolloutOf = async (submissionId: string): Promise<Json> =>
    storeGet(sandbox, `applications/${APP}/submissions/${submissionId}/packagerollout`);

  itOnFastClock('takes three steps to finalize on durable timers after Published', async () => {
    const id = await start(
      'ramp/three.zip',
      rampZip([{ percentage: 5 }, { percentage: 20, after: '2m' }, { finalize: true, after: '4m' }]),
    );
    const done = await sandbox.finished(id);
    expect(done).toMatchObject({ status: 'Succeeded', storeStatus: 'Published', ramp: { state: 'Finalized' } });
    const steps = done.ramp!.steps;
    expect(steps.map((s) => [s.percentage ?? 'finalize', !!s.appliedAt])).toEqual([
      [5, true],
      [20, true],
      ['finalize', true],
    ]);
    // Each later step was due `after` its publication, and not applied before.
    const published = Date.parse(steps[0]!.appliedAt!);
    expect(Date.parse(steps[1]!.dueAt!) - published).toBe(2 * 60_000);
    expect(Date.parse(steps[2]!.dueAt!) - published).toBe(4 * 60_000);
    for (const s of steps.slice(1)) expect(Date.parse(s.appliedAt!)).toBeGreaterThanOrEqual(Date.parse(s.dueAt!));
    const ramped = done.timeline.filter((t) => t.step === 'rampStep');
    expect(ramped).toHaveLength(2);
    for (const t of ramped) expect(t.correlationIds?.length).toBeGreaterThanOrEqual(2);
    expect(stepsOf(done).indexOf('rampStep')).toBeGreaterThan(stepsOf(done).indexOf('waitFor:published'));

    const state = await sandbox.emulator.admin.state();
    expect(
      requestsOf(state, new RegExp(`/submissions/${done.submissionId}/(update|finalize|halt)`)).map((r) =>
        r.replace(/^POST .*\//, ''),
      ),
    ).toEqual(['updatepackagerolloutpercentage', 'finalizepackagerollout']);
    expect(await rolloutOf(done.submissionId!)).toMatchObject({
      isPackageRollout: true,
      packageRolloutStatus: 'PackageRolloutComplete',
      packageRolloutPercentage: 100,
    });
  });

  itOnFastClock('pauses, resumes and halts midway: the Store halts, later steps never come', async () => {
    const id = await start(
      'ramp/halted.zip',
      rampZip([
        { percentage: 5 },
        { percentage: 20, after: '2m' },
        { percentage: 50, after: '6000m' },
        { finalize: true, after: '9000m' },
      ]),
    );
    const at20 = (d: StatusDocument) => d.phase === 'RampingRollout' && d.ramp?.next === 2;
    const midway = await sandbox.waitFor(id, at20);
    expect(await rolloutOf(midway.submissionId!)).toMatchObject({
      packageRolloutStatus: 'PackageRolloutInProgress',
      packageRolloutPercentage: 20,
    });
    // The CLI and the route take the same actions in the same states: resume needs a paused ramp.
    expect(await control(id, 'resume')).toBe(409);
    const early = await cli('resume', id);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(`Run ${id} has no ramp to resume (it is RampingRollout, ramp Waiting)`);
    const paused = await cli('pause', id, '--by', 'release manager');
    expect([paused.code, paused.stderr]).toEqual([0, '']);
    expect(paused.stdout).toContain(`Asked run ${id} to pause its ramp`);
    const held = await sandbox.waitFor(id, (d) => d.ramp?.state === 'Paused');
    expect(held.ramp!.control).toMatchObject({ action: 'pause', by: 'release manager' });
    expect(await control(id, 'pause')).toBe(409);
    expect(await control(id, 'resume')).toBe(202);
    await sandbox.waitFor(id, (d) => d.ramp?.state === 'Waiting' && d.ramp.control?.action === 'resume');
    const halted = await cli('halt', id, '--json');
    expect(halted.code).toBe(0);
    expect(JSON.parse(halted.stdout)).toMatchObject({ instanceId: id, control: { action: 'halt' } });
    const done = await sandbox.finished(id);
    expect(done).toMatchObject({ status: 'Succeeded', ramp: { state: 'Halted', control: { action: 'halt' } } });
    expect(done.ramp!.message).toContain("the Store's rollout is stopped (0%)");
    expect(done.ramp!.steps.map((s) => !!s.appliedAt)).toEqual([true, true, false, false]);
    expect(await rolloutOf(done.submissionId!)).toMatchObject({
      packageRolloutStatus: 'PackageRolloutStopped',
      packageRolloutPercentage: 0,
    });
    const state = await sandbox.emulator.admin.state();
    expect(
      requestsOf(state, new RegExp(`/submissions/${done.submissionId}/(update|finalize|halt)`)).map((r) =>
        r.replace(/^POST .*\//, ''),
      ),
    ).toEqual(['updatepackagerolloutpercentage', 'haltpackagerollout']);
    expect(await control(id, 'halt')).toBe(409);
    // Halt is final: nothing takes the ramp up again.
    expect((await cli('resume', id)).code).toBe(1);
    expect((await cli('halt', id)).code).toBe(1);
  });

  itOnFastClock('stops when the rollout is changed outside it: a newer run finalizes it', async () => {
    const id = await start(
      'ramp/outside.zip',
      rampZip([{ percentage: 5 }, { percentage: 20, after: '2m' }, { percentage: 40, after: '10m' }]),
    );
    const midway = await sandbox.waitFor(id, (d) => d.phase === 'RampingRollout' && d.ramp?.next === 2);
    // The ramping run has left the product's queue: the newer run meets the rollout and finalizes it.
    const newer = await start('ramp/newer.zip', rampZip([{ percentage: 100 }], { existingRollout: 'finalize' }));
    const next = await sandbox.finished(newer);
    expect(next.status).toBe('Succeeded');
    expect(stepsOf(next)).toContain('settleRollout');
    const done = await sandbox.finished(id);
    expect(done.ramp).toMatchObject({ state: 'ChangedOutside' });
    expect(done.ramp!.message).toContain('Complete at 100%');
    const state = await sandbox.emulator.admin.state();
    expect(
      requestsOf(state, new RegExp(`/submissions/${midway.submissionId}/updatepackagerolloutpercentage`)),
    ).toHaveLength(1);
  });
});
