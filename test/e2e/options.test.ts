import { SEED_IDS, type EmulatorState } from '../../sandbox/emulator';
import { fakeFile, packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import {
  apiSubmissionsOf,
  dropAndFinish,
  emulatorUntil,
  fileStatuses,
  requestsOf,
  stepsOf,
  storeApi,
  storeGet,
  type Json,
  E2E_SETTINGS,
} from './support';

const APP = SEED_IDS.demoApp;
const OLD_X64 = 'Packages/ContosoDemo_1.0.0.0_x64.msix';
const OLD_ARM64 = 'Packages/ContosoDemo_1.0.0.0_arm64.msix';
// Each test submits a newer build: the Store is reset between tests, but the product queue
// remembers the version an earlier test delivered, and would supersede the same one again.
let build = 0;
let PACKAGE: string;
let files: Record<string, Buffer>;
/** The rollout app of the seed has its own package identity. */
let rolloutFiles: Record<string, Buffer>;
beforeEach(() => {
  PACKAGE = `packages/ContosoDemo_2.0.${++build}.0_x64.msixupload`;
  files = { [PACKAGE]: packageFor(PACKAGE) };
  rolloutFiles = { [PACKAGE]: packageFor(PACKAGE, { name: 'Contoso.Gradual' }) };
});

function appManifest(options: Json = {}, submission: Json = {}, applicationId: string = APP): unknown {
  return {
    target: { kind: 'app', applicationId },
    submission: { applicationPackages: [{ fileName: PACKAGE }], ...submission },
    options,
  };
}

/** The app's submissions the API made, other than its seeded published one. */
function made(state: EmulatorState, appId: string = APP) {
  const seeded = [SEED_IDS.demoAppPublishedSubmission, SEED_IDS.rolloutAppPublishedSubmission];
  return apiSubmissionsOf(state, appId, seeded);
}

const CREATES = (appId: string) => new RegExp(`^POST /v1\\.0/my/applications/${appId}/submissions$`, 'i');

describe('submission.json options end to end', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: E2E_SETTINGS });
  });
  afterAll(() => sandbox?.stop());
  beforeEach(async () => {
    await sandbox.emulator.admin.reset('default');
    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'PreProcessing' });
  });

  describe('pendingSubmission', () => {
    async function pendingMadeThroughApi(): Promise<string> {
      const created = await storeApi(sandbox, 'POST', `applications/${APP}/submissions`);
      expect(created.status).toBe(201);
      return String(created.body.id);
    }

    it('"replace" deletes a pending API submission and creates ours', async () => {
      const pendingId = await pendingMadeThroughApi();
      const { doc } = await dropAndFinish(sandbox, 'pending/replace.zip', appManifest(), files);
      expect(doc.status).toBe('Succeeded');
      expect(stepsOf(doc)).toEqual(
        expect.arrayContaining(['deletePendingSubmission', 'createSubmission', 'commitSubmission']),
      );
      const state = await sandbox.emulator.admin.state();
      expect(state.submissions.find((s) => s.id === pendingId)).toBeUndefined();
      expect(made(state).map((s) => [s.id, s.status])).toEqual([[doc.submissionId, 'PreProcessing']]);
      expect(requestsOf(state, new RegExp(`^DELETE .*/submissions/${pendingId}$`))).toHaveLength(1);
    });

    it('"fail" stops with a message naming the option, creates nothing and leaves the pending one alone', async () => {
      const pendingId = await pendingMadeThroughApi();
      const { doc } = await dropAndFinish(
        sandbox,
        'pending/fail.zip',
        appManifest({ pendingSubmission: 'fail' }),
        files,
      );
      expect(doc.status).toBe('Failed');
      expect(doc.failure?.message).toContain(pendingId);
      expect(doc.failure?.message).toMatch(/options\.pendingSubmission is "fail"/);
      expect(doc.failure?.facts.code).toBe('PendingSubmissionExists');
      expect(doc.submissionId).toBeUndefined();

      const state = await sandbox.emulator.admin.state();
      expect(made(state).map((s) => [s.id, s.status])).toEqual([[pendingId, 'PendingCommit']]);
      expect(state.applications.find((a) => a.id === APP)!.pendingApplicationSubmission).toMatchObject({
        id: pendingId,
      });
      // Only the test's own create; the run neither created, changed nor deleted anything.
      expect(requestsOf(state, CREATES(APP))).toHaveLength(1);
      expect(requestsOf(state, /^(PUT|DELETE) /)).toEqual([]);
    });

    it('a dry run never deletes a pending submission: it stops and says why', async () => {
      const pendingId = await pendingMadeThroughApi();
      const { doc } = await dropAndFinish(sandbox, 'pending/dry.zip', appManifest({ dryRun: true }), files);
      expect(doc.status).toBe('Failed');
      expect(doc.failure?.facts.code).toBe('PendingSubmissionExists');
      expect(doc.failure?.message).toContain(pendingId);
      expect(doc.failure?.message).toMatch(/dry run deletes nothing/);

      const state = await sandbox.emulator.admin.state();
      expect(made(state).map((s) => [s.id, s.status])).toEqual([[pendingId, 'PendingCommit']]);
      expect(requestsOf(state, /^(PUT|DELETE) /)).toEqual([]);
    });

    it('a pending submission made in Partner Center stops the run with advice to delete it there', async () => {
      const { doc } = await dropAndFinish(
        sandbox,
        'pending/portal.zip',
        appManifest({}, {}, SEED_IDS.portalApp),
        files,
      );
      expect(doc.status).toBe('Failed');
      expect(doc.failure?.message).toContain(SEED_IDS.portalAppPendingSubmission);
      expect(doc.failure?.message).toMatch(/created in Partner Center/);
      expect(doc.failure?.message).toMatch(/Delete it in Partner Center/);
      expect(doc.failure?.facts.code).toBe('PendingSubmissionMadeInPortal');

      const state = await sandbox.emulator.admin.state();
      const portal = state.submissions.filter((s) => s.productId === SEED_IDS.portalApp);
      expect(portal.find((s) => s.id === SEED_IDS.portalAppPendingSubmission)).toMatchObject({
        createdIn: 'PartnerCenter',
        status: 'PendingCommit',
      });
      expect(portal.filter((s) => s.createdIn === 'API' && s.status !== 'Published')).toEqual([]);
      expect(requestsOf(state, CREATES(SEED_IDS.portalApp))).toEqual([]);
    });
    it('with "fail", a pending submission made in Partner Center is still to be deleted there, not replaced', async () => {
      const { doc } = await dropAndFinish(
        sandbox,
        'pending/portal-fail.zip',
        appManifest({ pendingSubmission: 'fail' }, {}, SEED_IDS.portalApp),
        files,
      );
      expect(doc.status).toBe('Failed');
      expect(doc.failure?.message).toContain(SEED_IDS.portalAppPendingSubmission);
      expect(doc.failure?.message).toMatch(/made in Partner Center/);
      expect(doc.failure?.message).toMatch(/[Dd]elete it in Partner Center/);
      // "replace" could not help: the API cannot delete a Partner Center submission.
      expect(doc.failure?.message).not.toMatch(/"replace"/);
      const state = await sandbox.emulator.admin.state();
      expect(requestsOf(state, /^(POST|PUT|DELETE) /)).toEqual([]);
    });
  });

  describe('packages', () => {
    it('"add" keeps the published packages and adds the new one', async () => {
      const { doc } = await dropAndFinish(sandbox, 'packages/add.zip', appManifest({ packages: 'add' }), files);
      expect(doc.status).toBe('Succeeded');
      const ours = made(await sandbox.emulator.admin.state());
      expect(ours).toHaveLength(1);
      const statuses = fileStatuses(ours[0]!);
      expect([statuses[OLD_X64], statuses[OLD_ARM64], statuses[PACKAGE]]).toEqual([
        'Uploaded',
        'Uploaded',
        'PendingUpload',
      ]);
    });

    it('"replace" marks the published packages PendingDelete', async () => {
      const { doc } = await dropAndFinish(sandbox, 'packages/replace.zip', appManifest({ packages: 'replace' }), files);
      expect(doc.status).toBe('Succeeded');
      const ours = made(await sandbox.emulator.admin.state());
      const statuses = fileStatuses(ours[0]!);
      expect([statuses[OLD_X64], statuses[OLD_ARM64], statuses[PACKAGE]]).toEqual([
        'PendingDelete',
        'PendingDelete',
        'PendingUpload',
      ]);
    });
  });

  it('replaces the images of the languages named only, and leaves fields not named as published', async () => {
    const image = 'images/de-de/screenshot-neu.png';
    const { doc } = await dropAndFinish(
      sandbox,
      'listings/de-de-only.zip',
      appManifest(
        {},
        {
          listings: {
            'de-de': {
              baseListing: {
                description: 'Jetzt schneller.',
                images: [{ fileName: image, imageType: 'Screenshot', description: 'Neues Fenster' }],
              },
            },
          },
        },
      ),
      { ...files, [image]: fakeFile('png', 64) },
    );
    expect(doc.status).toBe('Succeeded');
    const ours = made(await sandbox.emulator.admin.state());
    expect(ours).toHaveLength(1);
    const statuses = fileStatuses(ours[0]!);
    expect(statuses).toMatchObject({
      [image]: 'PendingUpload',
      'Images/de-de/screenshot1.png': 'PendingDelete',
      'Images/en-us/screenshot1.png': 'Uploaded',
      'Images/en-us/storelogo.png': 'Uploaded',
    });

    const published = await storeGet(sandbox, `applications/${APP}/submissions/${SEED_IDS.demoAppPublishedSubmission}`);
    const body = await storeGet(sandbox, `applications/${APP}/submissions/${doc.submissionId}`);
    const listings = body.listings as Record<string, { baseListing: Json }>;
    const before = published.listings as Record<string, { baseListing: Json }>;
    expect(listings['en-us']).toEqual(before['en-us']);
    expect(listings['de-de']!.baseListing).toMatchObject({
      description: 'Jetzt schneller.',
      title: before['de-de']!.baseListing.title,
      keywords: before['de-de']!.baseListing.keywords,
    });
    for (const field of ['applicationCategory', 'visibility', 'targetPublishMode', 'allowTargetFutureDeviceFamilies'])
      expect({ [field]: body[field] }).toEqual({ [field]: published[field] });
    // The price as published; isAdvancedPricingModel is the Store's read-only flag, which it turns
    // to false on any PUT (msstore-cli PR #175), so it is not the product's to keep.
    const { isAdvancedPricingModel: _flag, ...price } = published.pricing as Json;
    expect(body.pricing).toEqual({ ...price, isAdvancedPricingModel: false });
  });

  it('dryRun creates and updates the submission, then deletes it: nothing uploaded, nothing committed', async () => {
    const { doc } = await dropAndFinish(sandbox, 'dry/run.zip', appManifest({ dryRun: true }), files);
    expect(doc).toMatchObject({ status: 'Succeeded', outcome: 'DryRunSucceeded', dryRun: true });
    expect(stepsOf(doc)).toEqual(expect.arrayContaining(['createSubmission', 'updateSubmission', 'discardSubmission']));
    expect(stepsOf(doc)).not.toContain('uploadPackageZip');
    expect(stepsOf(doc)).not.toContain('commitSubmission');

    const state = await sandbox.emulator.admin.state();
    expect(made(state)).toEqual([]);
    expect(state.applications.find((a) => a.id === APP)!.pendingApplicationSubmission).toBeUndefined();
    const writes = requestsOf(state, /^(POST|PUT|DELETE) /);
    expect(writes).toEqual([
      expect.stringMatching(CREATES(APP)),
      expect.stringMatching(new RegExp(`^PUT .*/submissions/${doc.submissionId}$`)),
      expect.stringMatching(new RegExp(`^DELETE .*/submissions/${doc.submissionId}$`)),
    ]);
    expect(requestsOf(state, /commit|\(upload\)/)).toEqual([]);
  });

  describe('waitFor published', () => {
    beforeEach(() => sandbox.emulator.admin.clearFaults());

    it('follows an Immediate submission to Published', async () => {
      const { doc } = await dropAndFinish(
        sandbox,
        'publish/immediate.zip',
        appManifest({ waitFor: 'published' }),
        files,
      );
      expect(doc).toMatchObject({ status: 'Succeeded', outcome: 'Succeeded', storeStatus: 'Published' });
      const state = await sandbox.emulator.admin.state();
      expect(state.submissions.find((s) => s.id === doc.submissionId)?.status).toBe('Published');
      expect(state.applications.find((a) => a.id === APP)!.lastPublishedApplicationSubmission).toMatchObject({
        id: doc.submissionId,
      });
    });

    it('stops a Manual submission at Release, which Partner Center then publishes', async () => {
      const { doc } = await dropAndFinish(
        sandbox,
        'publish/manual.zip',
        appManifest({ waitFor: 'published' }, { targetPublishMode: 'Manual' }),
        files,
      );
      expect(doc).toMatchObject({ status: 'Succeeded', storeStatus: 'Release' });
      const id = doc.submissionId!;
      let state = await sandbox.emulator.admin.state();
      expect(state.submissions.find((s) => s.id === id)).toMatchObject({
        status: 'Release',
        targetPublishMode: 'Manual',
      });

      await sandbox.emulator.admin.publish(id);
      state = await emulatorUntil(sandbox, (s) => s.submissions.find((x) => x.id === id)?.status === 'Published');
      expect(state.applications.find((a) => a.id === APP)!.lastPublishedApplicationSubmission).toMatchObject({ id });
    });
  });

  describe('existingRollout', () => {
    const RLLT = SEED_IDS.rolloutApp;
    const rollout = async (): Promise<Json> => {
      const published = await storeGet(
        sandbox,
        `applications/${RLLT}/submissions/${SEED_IDS.rolloutAppPublishedSubmission}`,
      );
      return (published.packageDeliveryOptions as Json).packageRollout as Json;
    };

    it('"fail" (the default) stops with a message naming the option and leaves the rollout running', async () => {
      const { doc } = await dropAndFinish(sandbox, 'rollout/fail.zip', appManifest({}, {}, RLLT), rolloutFiles);
      expect(doc.status).toBe('Failed');
      expect(doc.failure?.facts.code).toBe('RolloutInProgress');
      expect(doc.failure?.message).toContain(SEED_IDS.rolloutAppPublishedSubmission);
      expect(doc.failure?.message).toMatch(/options\.existingRollout to "finalize" or "halt"/);
      expect(await rollout()).toMatchObject({
        packageRolloutStatus: 'PackageRolloutInProgress',
        packageRolloutPercentage: 25,
      });
      const state = await sandbox.emulator.admin.state();
      expect(requestsOf(state, CREATES(RLLT))).toEqual([]);
      expect(made(state, RLLT)).toEqual([]);
    });

    it.each([
      ['finalize', { packageRolloutStatus: 'PackageRolloutComplete', packageRolloutPercentage: 100 }],
      // Halting takes the percentage to 0 (halt-the-package-rollout-for-an-app-submission.md).
      ['halt', { packageRolloutStatus: 'PackageRolloutStopped', packageRolloutPercentage: 0 }],
    ])('"%s" settles the rollout, then submits', async (action, expected) => {
      const { doc } = await dropAndFinish(
        sandbox,
        `rollout/${action}.zip`,
        appManifest({ existingRollout: action }, {}, RLLT),
        rolloutFiles,
      );
      expect(doc.status).toBe('Succeeded');
      expect(stepsOf(doc)).toEqual(expect.arrayContaining(['settleRollout', 'createSubmission', 'commitSubmission']));
      expect(await rollout()).toMatchObject(expected);
      const state = await sandbox.emulator.admin.state();
      expect(made(state, RLLT).map((s) => [s.id, s.status])).toEqual([[doc.submissionId, 'PreProcessing']]);
      expect(
        requestsOf(
          state,
          new RegExp(`^POST .*/${SEED_IDS.rolloutAppPublishedSubmission}/${action}packagerollout$`, 'i'),
        ),
      ).toHaveLength(1);
    });
  });
});
