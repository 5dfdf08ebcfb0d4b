import { SEED_IDS } from '../../sandbox/emulator';
import { packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { apiSubmissionsOf, dropAndFinish, fileStatuses, requestsOf, stepsOf, storeGet, E2E_SETTINGS } from './support';

const PACKAGE = 'packages/ContosoDemo_1.2.0.0_x64.msixupload';
const OLD_PACKAGE = 'Packages/ContosoDemo_1.1.0.0_x64.msix';
const GROUP = '1152921504606962205';

function flightManifest(
  target: Record<string, unknown>,
  options: Record<string, unknown> = {},
  fileName = PACKAGE,
): unknown {
  return {
    target: { kind: 'flight', applicationId: SEED_IDS.demoApp, ...target },
    submission: { flightPackages: [{ fileName }] },
    options,
  };
}

const files = { [PACKAGE]: packageFor(PACKAGE) };
const CREATE_FLIGHT = new RegExp(`^POST /v1\\.0/my/applications/${SEED_IDS.demoApp}/flights$`, 'i');

describe('a flight submission end to end', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: E2E_SETTINGS });
  });
  afterAll(() => sandbox?.stop());
  beforeEach(async () => {
    await sandbox.emulator.admin.reset('default');
    // Held in PreProcessing, our committed submission still shows which files it adds and which go.
    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'PreProcessing' });
  });

  it('submits to an existing flight named by flightId: one committed submission, new package in, old one PendingDelete', async () => {
    const { doc, zip } = await dropAndFinish(
      sandbox,
      'flights/by-id.zip',
      flightManifest({ flightId: SEED_IDS.demoFlight }),
      files,
    );
    expect(doc).toMatchObject({
      status: 'Succeeded',
      kind: 'flight',
      product: { kind: 'flight', applicationId: SEED_IDS.demoApp, flightId: SEED_IDS.demoFlight },
    });

    const state = await sandbox.emulator.admin.state();
    const ours = apiSubmissionsOf(state, SEED_IDS.demoFlight, [SEED_IDS.demoFlightPublishedSubmission]);
    expect(ours).toHaveLength(1);
    const submission = ours[0]!;
    expect(submission.id).toBe(doc.submissionId);
    expect(submission.kind).toBe('flight');
    // The status the run reports is the one the Store holds.
    expect(submission.status).toBe('PreProcessing');
    expect(doc.storeStatus).toBe(submission.status);
    expect(fileStatuses(submission)).toEqual({ [PACKAGE]: 'PendingUpload', [OLD_PACKAGE]: 'PendingDelete' });
    expect(submission.upload?.size).toBe(zip.length);
    // The app itself is untouched, and nothing looked flights up or made one.
    expect(apiSubmissionsOf(state, SEED_IDS.demoApp, [SEED_IDS.demoAppPublishedSubmission])).toHaveLength(0);
    expect(requestsOf(state, /\/(listflights|flights)$/i)).toEqual([]);
  });

  it('finds an existing flight by friendly name and does not create one', async () => {
    const { doc } = await dropAndFinish(
      sandbox,
      'flights/by-existing-name.zip',
      flightManifest({ flight: { friendlyName: 'Beta testers', groupIds: [GROUP] } }),
      files,
    );
    expect(doc.status).toBe('Succeeded');
    expect(doc.product).toEqual({ kind: 'flight', applicationId: SEED_IDS.demoApp, flightId: SEED_IDS.demoFlight });

    const state = await sandbox.emulator.admin.state();
    const app = state.applications.find((a) => a.id === SEED_IDS.demoApp)!;
    expect(app.flights.map((f) => f.flightId)).toEqual([SEED_IDS.demoFlight]);
    expect(requestsOf(state, CREATE_FLIGHT)).toEqual([]);
    const ours = apiSubmissionsOf(state, SEED_IDS.demoFlight, [SEED_IDS.demoFlightPublishedSubmission]);
    expect(ours.map((s) => s.id)).toEqual([doc.submissionId]);
  });

  it('finds the flight whatever the case of its friendly name, as the Store allows no two names differing only in case', async () => {
    const { doc } = await dropAndFinish(
      sandbox,
      'flights/by-name-other-case.zip',
      flightManifest({ flight: { friendlyName: 'beta TESTERS', groupIds: [GROUP] } }),
      files,
    );
    expect(doc.failure).toBeUndefined();
    expect(doc.status).toBe('Succeeded');
    expect(doc.product).toEqual({ kind: 'flight', applicationId: SEED_IDS.demoApp, flightId: SEED_IDS.demoFlight });
    const state = await sandbox.emulator.admin.state();
    expect(requestsOf(state, CREATE_FLIGHT)).toEqual([]);
  });

  it('creates a flight named by a new friendly name once, with its groups and rank, and finds it the next time', async () => {
    const target = { flight: { friendlyName: 'Insiders', groupIds: [GROUP], rankHigherThan: 'Beta testers' } };
    // The first run follows its submission to Published, so the second clones from it.
    await sandbox.emulator.admin.clearFaults();
    const first = await dropAndFinish(
      sandbox,
      'flights/new-name-1.zip',
      flightManifest(target, { waitFor: 'published' }),
      files,
    );
    expect(first.doc).toMatchObject({ status: 'Succeeded', storeStatus: 'Published' });
    expect(stepsOf(first.doc)).toContain('resolveProduct');

    let state = await sandbox.emulator.admin.state();
    const flights = state.applications.find((a) => a.id === SEED_IDS.demoApp)!.flights;
    expect(flights).toHaveLength(2);
    const created = flights.find((f) => f.friendlyName === 'Insiders')!;
    expect(created).toMatchObject({ groupIds: [GROUP], rankHigherThan: 'Beta testers' });
    expect(first.doc.product).toEqual({
      kind: 'flight',
      applicationId: SEED_IDS.demoApp,
      flightId: created.flightId,
    });
    expect(requestsOf(state, CREATE_FLIGHT)).toHaveLength(1);
    const flightId = String(created.flightId);
    const published = apiSubmissionsOf(state, flightId);
    expect(published.map((s) => [s.id, s.status])).toEqual([[first.doc.submissionId, 'Published']]);
    expect(created.lastPublishedFlightSubmission).toMatchObject({ id: first.doc.submissionId });
    const publishedBody = await storeGet(
      sandbox,
      `applications/${SEED_IDS.demoApp}/flights/${flightId}/submissions/${first.doc.submissionId}`,
    );
    expect(publishedBody.flightPackages).toEqual([
      expect.objectContaining({ fileName: PACKAGE, fileStatus: 'Uploaded', version: '1.2.0.0' }),
    ]);

    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'PreProcessing', productId: flightId });
    const next = 'packages/ContosoDemo_1.3.0.0_x64.msixupload';
    const second = await dropAndFinish(sandbox, 'flights/new-name-2.zip', flightManifest(target, {}, next), {
      [next]: packageFor(next),
    });
    expect(second.doc.status).toBe('Succeeded');
    expect(second.doc.product).toEqual(first.doc.product);
    expect(second.doc.submissionId).not.toBe(first.doc.submissionId);

    state = await sandbox.emulator.admin.state();
    expect(state.applications.find((a) => a.id === SEED_IDS.demoApp)!.flights).toHaveLength(2);
    expect(requestsOf(state, CREATE_FLIGHT)).toHaveLength(1);
    const pending = apiSubmissionsOf(state, flightId, [first.doc.submissionId!]);
    expect(pending.map((s) => [s.id, s.status])).toEqual([[second.doc.submissionId, 'PreProcessing']]);
    // The package the first run published is the clone's old package now: it makes way.
    expect(fileStatuses(pending[0]!)).toEqual({ [PACKAGE]: 'PendingDelete', [next]: 'PendingUpload' });
  });
});
