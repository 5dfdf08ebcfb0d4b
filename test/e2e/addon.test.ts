import { SEED_IDS, defaultSeed } from '../../sandbox/emulator';
import { fakeFile } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import {
  apiSubmissionsOf,
  dropAndFinish,
  fileStatuses,
  requestsOf,
  storeGet,
  type Json,
  E2E_SETTINGS,
} from './support';

const ICON = 'images/addon-icon-v2.png';
const OLD_ICON = 'Images/addon-icon.png';
const CREATE_ADDON = /^POST \/v1\.0\/my\/inappproducts$/i;

function addonManifest(target: Record<string, unknown>, listing: Record<string, unknown>, extra: Json = {}): unknown {
  return {
    target: { kind: 'addon', ...target },
    submission: { listings: { 'en-us': { ...listing, icon: { fileName: ICON } } }, ...extra },
  };
}

const files = { [ICON]: fakeFile('icon', 300) };

describe('an add-on submission end to end', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: E2E_SETTINGS });
  });
  afterAll(() => sandbox?.stop());
  beforeEach(async () => {
    await sandbox.emulator.admin.reset('default');
    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'PreProcessing' });
  });

  it('submits to an existing add-on by inAppProductId: listing merged, new icon PendingUpload', async () => {
    const { doc, zip } = await dropAndFinish(
      sandbox,
      'addons/by-id.zip',
      addonManifest({ inAppProductId: SEED_IDS.demoAddOn }, { title: 'Demo add-on, second edition' }),
      files,
    );
    expect(doc).toMatchObject({
      status: 'Succeeded',
      kind: 'addon',
      product: { kind: 'addon', inAppProductId: SEED_IDS.demoAddOn },
    });

    const state = await sandbox.emulator.admin.state();
    const ours = apiSubmissionsOf(state, SEED_IDS.demoAddOn, [SEED_IDS.demoAddOnPublishedSubmission]);
    expect(ours).toHaveLength(1);
    const submission = ours[0]!;
    expect(submission).toMatchObject({ id: doc.submissionId, kind: 'inappproduct', status: 'PreProcessing' });
    expect(doc.storeStatus).toBe(submission.status);
    expect(fileStatuses(submission)).toEqual({ [ICON]: 'PendingUpload' });
    expect(submission.upload?.size).toBe(zip.length);
    expect(requestsOf(state, CREATE_ADDON)).toEqual([]);

    const body = await storeGet(sandbox, `inappproducts/${SEED_IDS.demoAddOn}/submissions/${submission.id}`);
    const listing = (body.listings as Record<string, Json>)['en-us']!;
    expect(listing).toMatchObject({
      title: 'Demo add-on, second edition',
      // Not named in the manifest: as published.
      description: 'Unlocks the demo features.',
      icon: { fileName: ICON, fileStatus: 'PendingUpload' },
    });
    expect(body).toMatchObject({ contentType: 'BookDownload', keywords: ['demo'], lifetime: 'Forever' });
    expect(JSON.stringify(body)).not.toContain(OLD_ICON);
  });

  it('finds an existing add-on by productId and does not create one', async () => {
    const { doc } = await dropAndFinish(
      sandbox,
      'addons/by-existing-product-id.zip',
      addonManifest(
        { addon: { productId: SEED_IDS.demoAddOnProductId, productType: 'Durable', applicationId: SEED_IDS.demoApp } },
        { title: 'Demo add-on' },
      ),
      files,
    );
    expect(doc.status).toBe('Succeeded');
    expect(doc.product).toEqual({ kind: 'addon', inAppProductId: SEED_IDS.demoAddOn });

    const state = await sandbox.emulator.admin.state();
    expect(state.inAppProducts.map((a) => a.id)).toEqual([SEED_IDS.demoAddOn]);
    expect(requestsOf(state, CREATE_ADDON)).toEqual([]);
    const ours = apiSubmissionsOf(state, SEED_IDS.demoAddOn, [SEED_IDS.demoAddOnPublishedSubmission]);
    expect(ours.map((s) => s.id)).toEqual([doc.submissionId]);
  });

  it('finds the add-on whatever the case of its productId', async () => {
    const { doc } = await dropAndFinish(
      sandbox,
      'addons/by-product-id-other-case.zip',
      addonManifest(
        { addon: { productId: 'Demo-AddOn', productType: 'Durable', applicationId: SEED_IDS.demoApp } },
        { title: 'Demo add-on' },
      ),
      files,
    );
    expect(doc.failure).toBeUndefined();
    expect(doc.product).toEqual({ kind: 'addon', inAppProductId: SEED_IDS.demoAddOn });
    expect(requestsOf(await sandbox.emulator.admin.state(), CREATE_ADDON)).toEqual([]);
  });

  it("looks for the productId among the named app's add-ons only", async () => {
    // Another app of the account has an add-on with the same productId: not ours to submit to.
    const seed = defaultSeed();
    seed.inAppProducts!.push({
      id: '9NBLGGH4OTHR',
      productId: 'extra-levels',
      productType: 'Durable',
      applicationIds: [SEED_IDS.rolloutApp],
      published: { listings: { 'en-us': { title: 'Not this one', description: '', icon: { fileName: 'x.png' } } } },
    });
    await sandbox.emulator.admin.reset(seed);
    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'PreProcessing' });

    const { doc } = await dropAndFinish(
      sandbox,
      'addons/same-product-id-other-app.zip',
      addonManifest(
        { addon: { productId: 'extra-levels', productType: 'Durable', applicationId: SEED_IDS.demoApp } },
        { title: 'Extra levels', description: 'Ten more levels.' },
      ),
      files,
    );
    expect(doc.status).toBe('Succeeded');
    const state = await sandbox.emulator.admin.state();
    expect(apiSubmissionsOf(state, '9NBLGGH4OTHR').filter((s) => s.status !== 'Published')).toEqual([]);
    const mine = state.inAppProducts.filter(
      (a) => a.productId === 'extra-levels' && JSON.stringify(a.applications).includes(SEED_IDS.demoApp),
    );
    expect(mine).toHaveLength(1);
    expect(doc.product).toEqual({ kind: 'addon', inAppProductId: mine[0]!.id });
  });

  it('creates an add-on named by a new productId and commits its first submission', async () => {
    const target = { addon: { productId: 'extra-levels', productType: 'Consumable', applicationId: SEED_IDS.demoApp } };
    const { doc } = await dropAndFinish(
      sandbox,
      'addons/new-product-id.zip',
      addonManifest(
        target,
        { title: 'Extra levels', description: 'Ten more levels.' },
        { contentType: 'OnlineDownload', lifetime: 'Forever', visibility: 'Public' },
      ),
      files,
    );
    expect(doc.status).toBe('Succeeded');

    const state = await sandbox.emulator.admin.state();
    expect(requestsOf(state, CREATE_ADDON)).toHaveLength(1);
    const created = state.inAppProducts.filter((a) => a.productId === 'extra-levels');
    expect(created).toHaveLength(1);
    const addOn = created[0]!;
    expect(addOn).toMatchObject({ productType: 'Consumable', applications: { value: [{ id: SEED_IDS.demoApp }] } });
    expect(doc.product).toEqual({ kind: 'addon', inAppProductId: addOn.id });

    const ours = apiSubmissionsOf(state, String(addOn.id));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({ id: doc.submissionId, status: 'PreProcessing' });
    expect(fileStatuses(ours[0]!)).toEqual({ [ICON]: 'PendingUpload' });
    const body = await storeGet(sandbox, `inappproducts/${String(addOn.id)}/submissions/${doc.submissionId}`);
    expect(body).toMatchObject({
      contentType: 'OnlineDownload',
      listings: { 'en-us': { title: 'Extra levels', description: 'Ten more levels.' } },
    });

    // Dropped again, the same productId finds the add-on the first run made.
    await sandbox.emulator.admin.clearFaults();
    const again = await dropAndFinish(
      sandbox,
      'addons/new-product-id-again.zip',
      addonManifest(target, { title: 'Extra levels' }),
      files,
    );
    expect(again.doc.status).toBe('Succeeded');
    expect(again.doc.product).toEqual(doc.product);
    const after = await sandbox.emulator.admin.state();
    expect(after.inAppProducts.filter((a) => a.productId === 'extra-levels')).toHaveLength(1);
    expect(requestsOf(after, CREATE_ADDON)).toHaveLength(1);
  });
});
