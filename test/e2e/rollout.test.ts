/**
 * A product's package rollout outside any run, through the app's HTTP API and the CLI, on the
 * emulated Store: read, set, halt and finalize, and the Store's refusal of a change to a rollout
 * that is not in progress.
 */
import { SEED_IDS } from '../../sandbox/emulator';
import { packageFor } from '../helpers/zips';
import { functionsApp, startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { runCli } from '../cli/helpers';
import { E2E_SETTINGS, dropAndFinish, requestsOf, storeGet, type Json } from './support';

const APP = SEED_IDS.demoApp;
const RLLT = SEED_IDS.rolloutApp;

describe('package rollouts outside a run', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: E2E_SETTINGS });
  });
  afterAll(() => sandbox?.stop());
  beforeEach(() => sandbox.emulator.admin.reset('default'));

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const response = await sandbox.host.fetch(`/api/products/${path}`, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  }

  const cli = (...args: string[]) => runCli(['rollout', ...args, ...functionsApp(sandbox)]);

  const storeRollout = async (appId: string, submissionId: string): Promise<Json> =>
    storeGet(sandbox, `applications/${appId}/submissions/${submissionId}/packagerollout`);

  it('sets and finalizes a rollout in progress, then answers 409 to a halt', async () => {
    const read = await call('GET', `app/${RLLT}/rollout`);
    expect(read).toMatchObject({
      status: 200,
      body: {
        product: { kind: 'app', applicationId: RLLT },
        submissionId: SEED_IDS.rolloutAppPublishedSubmission,
        isPackageRollout: true,
        percentage: 25,
        status: 'InProgress',
        fallbackSubmissionId: SEED_IDS.rolloutAppPreviousSubmission,
      },
    });
    expect((read.body.correlationIds as string[]).length).toBe(2);

    const set = await cli('set', RLLT, '60', '--json');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ status: 'InProgress', percentage: 60 });
    const status = await cli('status', RLLT);
    expect(status).toMatchObject({ code: 0 });
    expect(status.stdout).toContain(
      `Rollout of app ${RLLT}, submission ${SEED_IDS.rolloutAppPublishedSubmission}: InProgress at 60%; the others get submission ${SEED_IDS.rolloutAppPreviousSubmission}`,
    );

    const finalized = await cli('finalize', RLLT);
    expect(finalized.code).toBe(0);
    expect(finalized.stdout).toContain('Complete at 100%');
    expect(await storeRollout(RLLT, SEED_IDS.rolloutAppPublishedSubmission)).toMatchObject({
      packageRolloutStatus: 'PackageRolloutComplete',
      packageRolloutPercentage: 100,
    });

    // Finalized: nothing in progress, so the Store refuses (409) and the CLI says so, exit 1.
    const halt = await cli('halt', RLLT, '--json');
    expect(halt.code).toBe(1);
    expect(JSON.parse(halt.stdout).error).toMatchObject({
      code: 'RolloutNotInProgress',
      message: expect.stringContaining('this one is Complete'),
      correlationId: expect.any(String),
    });
    const state = await sandbox.emulator.admin.state();
    const changes = requestsOf(state, /^POST .*packagerollout/i).map((r) => r.replace(/^POST .*\//, ''));
    expect(changes).toEqual(['updatepackagerolloutpercentage', 'finalizepackagerollout', 'haltpackagerollout']);
  });

  it('reads and halts the rollout a run published', async () => {
    const PACKAGE = 'packages/ContosoDemo_2.5.0.0_x64.msixupload';
    const { doc } = await dropAndFinish(
      sandbox,
      'rollout/gradual.zip',
      {
        target: { kind: 'app', applicationId: APP },
        submission: {
          applicationPackages: [{ fileName: PACKAGE }],
          packageDeliveryOptions: { packageRollout: { isPackageRollout: true, packageRolloutPercentage: 10 } },
        },
        options: { waitFor: 'published' },
      },
      { [PACKAGE]: packageFor(PACKAGE) },
    );
    expect(doc.status).toBe('Succeeded');
    const read = await call('GET', `app/${APP}/rollout`);
    expect(read.body).toMatchObject({
      submissionId: doc.submissionId,
      isPackageRollout: true,
      percentage: 10,
      status: 'InProgress',
      fallbackSubmissionId: SEED_IDS.demoAppPublishedSubmission,
    });

    const halted = await call('POST', `app/${APP}/rollout`, { halt: true });
    expect(halted).toMatchObject({ status: 200, body: { status: 'Stopped', percentage: 0 } });
    // Halting sets the percentage to 0 and the status to Stopped (halt-the-package-rollout-for-an-app-submission.md).
    expect(await storeRollout(APP, String(doc.submissionId))).toMatchObject({
      packageRolloutStatus: 'PackageRolloutStopped',
      packageRolloutPercentage: 0,
    });
    const raise = await call('POST', `app/${APP}/rollout`, { percentage: 50 });
    expect(raise.status).toBe(409);
    expect(raise.body.error).toMatchObject({ code: 'RolloutNotInProgress' });
    expect(String((raise.body.error as Json).message)).toContain('this one is Stopped');
  });

  it('answers a product without a rollout, and refuses what cannot be one', async () => {
    // No rollout: GET answers the Store's NotStarted values; a change is refused.
    const none = await call('GET', `app/${APP}/rollout`);
    expect(none.body).toMatchObject({ isPackageRollout: false, percentage: 0, status: 'NotStarted' });
    const finalize = await call('POST', `app/${APP}/rollout`, { finalize: true });
    expect(finalize.status).toBe(409);
    expect(String((finalize.body.error as Json).message)).toContain('was not rolled out gradually');

    const flight = await call('GET', `flight/${SEED_IDS.demoFlight}/rollout?applicationId=${APP}`);
    expect(flight.body).toMatchObject({
      product: { kind: 'flight', applicationId: APP, flightId: SEED_IDS.demoFlight },
      submissionId: SEED_IDS.demoFlightPublishedSubmission,
      status: 'NotStarted',
    });
    const viaCli = await cli('status', `${APP}/${SEED_IDS.demoFlight}`);
    expect(viaCli.stdout).toContain(`Submission ${SEED_IDS.demoFlightPublishedSubmission} of flight`);

    expect((await call('GET', `app/${SEED_IDS.newApp}/rollout`)).body.error).toMatchObject({
      code: 'NoPublishedSubmission',
    });
    // One reader of the route for every /api/products route (lib/productRoute.ts): the same codes as the published route's.
    expect((await call('GET', `addon/${SEED_IDS.demoAddOn}/rollout`)).body.error).toMatchObject({
      code: 'InvalidProductKind',
    });
    expect((await call('GET', `app/${APP.toLowerCase()}/rollout`)).body).toMatchObject({
      product: { kind: 'app', applicationId: APP },
    });
    for (const [path, body] of [
      ['addon/9NBLGGH4TNNR/rollout', undefined],
      [`flight/${SEED_IDS.demoFlight}/rollout`, undefined],
      ['app/not-an-id/rollout', undefined],
      [`app/${RLLT}/rollout`, { percentage: 101 }],
      [`app/${RLLT}/rollout`, { halt: true, finalize: true }],
      [`app/${RLLT}/rollout`, 'not json'],
    ] as const) {
      const answer = await call(body === undefined ? 'GET' : 'POST', path, body);
      expect([path, answer.status]).toEqual([path, 400]);
    }
    expect((await cli('set', RLLT, 'lots')).code).toBe(2);
    // Nothing above reached a changing Store call.
    const state = await sandbox.emulator.admin.state();
    expect(requestsOf(state, /^POST .*(update|halt)packagerollout/i)).toEqual([]);
  });
});
