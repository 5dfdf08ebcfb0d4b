/**
 * The pipeline on a Store that refuses what the real one refuses: paid apps keep their price,
 * the first flight and the first add-on are created although their lists answer 404, a clone too
 * big for a full answer is created minimal, the Store's own fileStatus is accepted, and what
 * the API cannot do stops the run before anything is written.
 */
import { SEED_IDS, defaultSeed, type EmulatorState } from '../../sandbox/emulator';
import { fakeFile, packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import {
  apiSubmissionsOf,
  dropAndFinish,
  fileStatuses,
  requestsOf,
  storeApi,
  storeGet,
  type Json,
  E2E_SETTINGS,
} from './support';

/** Store API calls that change something on `productId`, or anywhere when it is left out. */
function writes(state: EmulatorState, productId = ''): string[] {
  return requestsOf(state, /^(POST|PUT|DELETE|PATCH) /).filter((line) => line.includes(productId));
}

function appZip(applicationId: string, identity: string, version: string, extra: Json = {}, options: Json = {}) {
  const file = `packages/${identity}_${version}_x64.msixupload`;
  return {
    manifest: {
      target: { kind: 'app', applicationId },
      submission: { applicationPackages: [{ fileName: file }], ...extra },
      options,
    },
    files: { [file]: packageFor(file, { name: identity }) },
  };
}

async function publishedOf(sandbox: TestSandbox, applicationId: string): Promise<Json> {
  const app = await storeGet(sandbox, `applications/${applicationId}`);
  const id = (app.lastPublishedApplicationSubmission as Json).id as string;
  return storeGet(sandbox, `applications/${applicationId}/submissions/${id}`);
}

describe('the pipeline on the strict Store', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: E2E_SETTINGS });
  });
  afterAll(() => sandbox?.stop());
  beforeEach(() => sandbox.emulator.admin.reset('default'));

  describe('paid apps keep their price', () => {
    it('a tier price is the same before and after a run to Published', async () => {
      const before = (await publishedOf(sandbox, SEED_IDS.tierApp)).pricing as Json;
      expect(before.priceId).toBe('Tier5');
      const { manifest, files } = appZip(
        SEED_IDS.tierApp,
        'Contoso.ContosoTiered',
        '2.0.0.0',
        {},
        { waitFor: 'published' },
      );
      const { doc } = await dropAndFinish(sandbox, 'paid/tier.zip', manifest, files);
      expect(doc).toMatchObject({ status: 'Succeeded', storeStatus: 'Published' });
      const after = await publishedOf(sandbox, SEED_IDS.tierApp);
      expect(after.id).toBe(doc.submissionId);
      const { priceId, marketSpecificPricings, trialPeriod } = after.pricing as Json;
      expect({ priceId, marketSpecificPricings, trialPeriod }).toEqual({
        priceId: before.priceId,
        marketSpecificPricings: before.marketSpecificPricings,
        trialPeriod: before.trialPeriod,
      });
    });

    it('on the per-market model ("Base"), the run stops before any Store write, naming the field and what to do', async () => {
      const before = (await publishedOf(sandbox, SEED_IDS.paidApp)).pricing;
      const { manifest, files } = appZip(SEED_IDS.paidApp, 'Contoso.ContosoPaid', '2.0.0.0');
      const { doc } = await dropAndFinish(sandbox, 'paid/base.zip', manifest, files);
      expect(doc.status).toBe('Failed');
      expect(doc.failure).toMatchObject({
        step: 'resolveProduct',
        facts: { code: 'PriceCannotBeKept', retriable: false },
      });
      expect(doc.failure!.message).toContain('pricing.priceId "Base"');
      expect(doc.failure!.message).toContain('submission.json submission.pricing.priceId');
      expect(doc.failure!.message).toContain('Nothing was created');
      const state = await sandbox.emulator.admin.state();
      expect(writes(state, SEED_IDS.paidApp)).toEqual([]);
      expect((await publishedOf(sandbox, SEED_IDS.paidApp)).pricing).toEqual(before);
    });

    it('with submission.pricing.priceId named, the run sets that price', async () => {
      const { manifest, files } = appZip(SEED_IDS.paidApp, 'Contoso.ContosoPaid', '2.0.0.0', {
        pricing: { priceId: 'Tier5' },
      });
      const { doc } = await dropAndFinish(sandbox, 'paid/named.zip', manifest, files);
      expect(doc.status).toBe('Succeeded');
      const ours = await storeGet(sandbox, `applications/${SEED_IDS.paidApp}/submissions/${doc.submissionId}`);
      expect((ours.pricing as Json).priceId).toBe('Tier5');
    });
  });

  it('creates the first flight of an app, whose flight list answers 404', async () => {
    expect((await storeApi(sandbox, 'GET', `applications/${SEED_IDS.tierApp}/listflights`)).status).toBe(404);
    const file = 'packages/Contoso.ContosoTiered_2.0.0.0_x64.msixupload';
    const { doc } = await dropAndFinish(
      sandbox,
      'first/flight.zip',
      {
        target: {
          kind: 'flight',
          applicationId: SEED_IDS.tierApp,
          flight: { friendlyName: 'First ring', groupIds: ['1'] },
        },
        submission: { flightPackages: [{ fileName: file }] },
      },
      { [file]: packageFor(file, { name: 'Contoso.ContosoTiered' }) },
    );
    expect(doc.status).toBe('Succeeded');
    const state = await sandbox.emulator.admin.state();
    expect(requestsOf(state, new RegExp(`^POST .*/applications/${SEED_IDS.tierApp}/flights$`, 'i'))).toHaveLength(1);
    const flights = await storeGet(sandbox, `applications/${SEED_IDS.tierApp}/listflights`);
    expect((flights.value as Json[]).map((f) => f.friendlyName)).toEqual(['First ring']);
  });

  it('creates the first add-on of an account, whose add-on list answers 404', async () => {
    await sandbox.emulator.admin.reset({ ...defaultSeed(), inAppProducts: [] });
    expect((await storeApi(sandbox, 'GET', 'inappproducts')).status).toBe(404);
    const icon = 'images/first-icon.png';
    const { doc } = await dropAndFinish(
      sandbox,
      'first/addon.zip',
      {
        target: {
          kind: 'addon',
          addon: { productId: 'first-addon', productType: 'Durable', applicationId: SEED_IDS.demoApp },
        },
        submission: {
          listings: { 'en-us': { title: 'First', description: 'The first one.', icon: { fileName: icon } } },
        },
      },
      { [icon]: fakeFile('icon', 300) },
    );
    expect(doc.status).toBe('Succeeded');
    const state = await sandbox.emulator.admin.state();
    expect(state.inAppProducts.map((a) => a.productId)).toEqual(['first-addon']);
    expect(doc.product).toEqual({ kind: 'addon', inAppProductId: state.inAppProducts[0]!.id });
  });

  // Before any test here delivers a release of the demo app: the product queue remembers delivered
  // versions across tests, and a lower one after that is superseded before the package check runs.
  it('a package whose version is not higher than the published one fails before any Store write', async () => {
    const { manifest, files } = appZip(SEED_IDS.demoApp, 'Contoso.Demo', '1.0.0.0');
    const { doc } = await dropAndFinish(sandbox, 'packages/same-version.zip', manifest, files);
    expect(doc.status).toBe('Failed');
    expect(doc.failure?.facts.code).toBe('PackageRefused');
    expect(doc.failure?.message).toMatch(
      /Identity\/@Version: is 1\.0\.0\.0 \(x64\), not higher than the published package .+ \(1\.0\.0\.0, x64\)/,
    );
    expect(writes(await sandbox.emulator.admin.state(), SEED_IDS.demoApp)).toEqual([]);
  });

  it('creates with the minimal answer and reads the submission: a clone too big for a full answer gets no 500', async () => {
    await sandbox.emulator.admin.configure({ fullCloneMaxBytes: 2000 });
    try {
      const { manifest, files } = appZip(SEED_IDS.demoApp, 'Contoso.Demo', '2.0.0.0');
      const { doc } = await dropAndFinish(sandbox, 'big/clone.zip', manifest, files);
      expect(doc.status).toBe('Succeeded');
      const state = await sandbox.emulator.admin.state();
      expect(state.requests.filter((r) => r.status >= 500)).toEqual([]);
      expect(apiSubmissionsOf(state, SEED_IDS.demoApp, [SEED_IDS.demoAppPublishedSubmission])).toHaveLength(1);
    } finally {
      await sandbox.emulator.admin.configure({ fullCloneMaxBytes: 100_000 });
    }
  });

  it('accepts "fileStatus": "PendingUpload" copied from the Store docs, for a package and an image', async () => {
    const image = 'images/en-us/docs-style.png';
    const { manifest, files } = appZip(SEED_IDS.demoApp, 'Contoso.Demo', '2.1.0.0', {
      listings: {
        'en-us': {
          baseListing: { images: [{ fileName: image, fileStatus: 'PendingUpload', imageType: 'Screenshot' }] },
        },
      },
    });
    const pkg = (manifest.submission.applicationPackages as Json[])[0]!;
    pkg.fileStatus = 'PendingUpload';
    const { doc } = await dropAndFinish(sandbox, 'docs/file-status.zip', manifest, {
      ...files,
      [image]: fakeFile('png', 64),
    });
    expect(doc.status).toBe('Succeeded');
    const state = await sandbox.emulator.admin.state();
    const ours = state.submissions.find((s) => s.id === doc.submissionId)!;
    expect(fileStatuses(ours)).toMatchObject({
      [String(pkg.fileName)]: expect.any(String),
      [image]: expect.any(String),
    });
  });

  it('a package of another publisher, or one that is no package, fails before any Store write, naming file, field and values', async () => {
    const wrong = 'packages/Contoso.Demo_2.0.0.0_x64.msixupload';
    const broken = 'packages/Contoso.Demo_2.0.0.0_arm64.msix';
    const { doc } = await dropAndFinish(
      sandbox,
      'packages/wrong.zip',
      {
        target: { kind: 'app', applicationId: SEED_IDS.demoApp },
        submission: { applicationPackages: [{ fileName: wrong }, { fileName: broken }] },
      },
      { [wrong]: packageFor(wrong, { publisher: 'CN=Fabrikam' }), [broken]: fakeFile('not a zip', 2048) },
    );
    expect(doc.status).toBe('Failed');
    expect(doc.failure).toMatchObject({ step: 'checkPackages', facts: { code: 'PackageRefused', retriable: false } });
    expect(doc.failure!.message).toContain(`${wrong} AppxManifest.xml Identity/@Publisher: is "CN=Fabrikam"`);
    expect(doc.failure!.message).toContain('"CN=Contoso Ltd."');
    expect(doc.failure!.message).toContain(broken);
    const state = await sandbox.emulator.admin.state();
    expect(writes(state, SEED_IDS.demoApp)).toEqual([]);
    expect(requestsOf(state, /\(upload\)/)).toEqual([]);
  });

  it('the first submission of an app is refused by the Store: the run stops with its message and makes nothing', async () => {
    const { manifest, files } = appZip(SEED_IDS.newApp, 'Contoso.Fresh', '1.0.0.0');
    const { doc } = await dropAndFinish(sandbox, 'first/app.zip', manifest, files);
    expect(doc.status).toBe('Failed');
    expect(doc.failure?.facts).toMatchObject({ code: 'InvalidState', retriable: false });
    expect(doc.failure?.message).toMatch(/must be completed in Partner Center/);
    const state = await sandbox.emulator.admin.state();
    expect(apiSubmissionsOf(state, SEED_IDS.newApp)).toEqual([]);
  });
});
