/**
 * The rules by which the emulator refuses what the real Store refuses, one test per rule, each
 * naming the source it follows (the table in sandbox/emulator/README.md has them all). Each test
 * fails if its rule is taken out.
 */
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { SEED_IDS, type SeedData, defaultSeed } from '../../../sandbox/emulator';
import { appxBundle, appxPackage, appxUpload } from '../../helpers/zips';
import { type Loose, makeZip, upload, emulatorPerFile } from './harness';

const APP = SEED_IDS.demoApp;
const FINAL = (s: string): boolean =>
  s === 'Published' || s.endsWith('Failed') || s === 'PendingCommit' || s === 'Canceled';
const DEMO = { name: 'Contoso.Demo', publisher: 'CN=Contoso Ltd.' };

describe('Store API emulator: what the Store refuses', () => {
  const the = emulatorPerFile('default');

  async function create(base = `applications/${APP}`): Promise<{ path: string; sub: Loose }> {
    const res = await the.api.post(`${base}/submissions`);
    expect(res.status).toBe(201);
    return { path: `${base}/submissions/${res.body.id}`, sub: res.body };
  }

  /** PUTs the clone with `packages` added as PendingUpload (the clone's packages PendingDelete), uploads `files`, commits. */
  async function submit(
    files: Record<string, Buffer | string>,
    change: (sub: Loose) => Loose = (s) => s,
    base = `applications/${APP}`,
  ): Promise<{ path: string; end: { status: string; statusDetails: Loose }; sub: Loose }> {
    const { path, sub } = await create(base);
    const field = base.includes('/flights/') ? 'flightPackages' : 'applicationPackages';
    const packages = Object.keys(files).filter((n) =>
      /\.(msix|appx|msixbundle|appxbundle|msixupload|appxupload)$/i.test(n),
    );
    const body = change({
      ...sub,
      [field]: [
        ...sub[field].map((p: Loose) => ({ ...p, fileStatus: 'PendingDelete' })),
        ...packages.map((fileName) => ({ fileName, fileStatus: 'PendingUpload' })),
      ],
    });
    const put = await the.api.put(path, body);
    expect([put.status, put.body?.message]).toEqual([200, undefined]);
    await upload(sub.fileUploadUrl, await makeZip(files));
    expect((await the.api.post(`${path}/commit`)).status).toBe(202);
    return { path, sub: put.body, end: await the.api.waitForStatus(path, FINAL) };
  }

  test('a submission of another app: 409, not 404 (get-an-app-submission.md: "does not belong to the specified app")', async () => {
    const { sub } = await create();
    const other = await the.api.get(`applications/${SEED_IDS.tierApp}/submissions/${sub.id}`);
    expect([other.status, other.body?.code]).toEqual([409, 'InvalidState']);
    expect((await the.api.delete(`applications/${SEED_IDS.tierApp}/submissions/${sub.id}`)).status).toBe(409);
    // An id no product has is still 404.
    expect((await the.api.get(`applications/${APP}/submissions/1152921504699999999`)).status).toBe(404);
  });

  describe('DELETE of a pending submission the Store is processing: 409 (delete-an-app-submission.md; Iktahana/illusions#1349)', () => {
    test('while in Release waiting for a manual publish', async () => {
      const { path, sub } = await create();
      const put = await the.api.put(path, { ...sub, targetPublishMode: 'Manual' });
      expect(put.status).toBe(200);
      await the.api.post(`${path}/commit`);
      await the.api.waitForStatus(path, (s) => s === 'Release');
      const refused = await the.api.delete(path);
      expect([refused.status, refused.body]).toEqual([
        409,
        expect.objectContaining({ code: 'InvalidState', message: 'Submission in its current state cannot be deleted' }),
      ]);
      await the.emulator.admin.publish(sub.id);
      expect((await the.api.waitForStatus(path, FINAL)).status).toBe('Published');
    });

    test('a canceled submission can be deleted', async () => {
      const { path, sub } = await create();
      await the.emulator.admin.fault({ kind: 'stuck', submissionId: sub.id, status: 'Certification' });
      await the.api.post(`${path}/commit`);
      await the.api.waitForStatus(path, (s) => s === 'Certification');
      expect((await the.api.delete(path)).status).toBe(409);
      // Canceled in Partner Center: a status the API reports and that is final.
      expect(await the.emulator.admin.cancel(sub.id)).toEqual({ status: 'Canceled' });
      expect((await the.api.get(`${path}/status`)).body.status).toBe('Canceled');
      expect((await the.api.delete(path)).status).toBe(204);
    });
  });

  describe('lists (get-flights-for-an-app.md, get-add-ons-for-an-app.md, get-all-add-ons.md)', () => {
    test('no flights, no add-ons: 404 with an empty body', async () => {
      for (const path of [
        `applications/${SEED_IDS.paidApp}/listflights`,
        `applications/${SEED_IDS.paidApp}/listinappproducts`,
      ]) {
        const res = await the.api.get(path);
        expect([path, res.status, res.text]).toEqual([path, 404, '']);
      }
      await the.emulator.admin.reset({ ...defaultSeed(), inAppProducts: [] });
      expect((await the.api.get('inappproducts')).status).toBe(404);
    });

    test('inappproducts without top returns every add-on, not a page of 10', async () => {
      for (let i = 0; i < 12; i++) {
        const made = await the.api.post('inappproducts', {
          applicationIds: [APP],
          productId: `extra-${i}`,
          productType: 'Durable',
        });
        expect(made.status).toBe(200);
      }
      const all = await the.api.get('inappproducts');
      expect(all.body.value).toHaveLength(13);
      expect(all.body['@nextLink']).toBeUndefined();
      const paged = await the.api.get('inappproducts?top=5');
      expect(paged.body['@nextLink']).toBe('inappproducts/?skip=5&top=5');
    });
  });

  describe('pricing (msstore-cli PR #175 measured against the live API; msstore-cli#66, #112; StoreBroker#68)', () => {
    test("a paid app on the newer pricing model is cloned with priceId 'Base', which a PUT refuses", async () => {
      const { path, sub } = await create(`applications/${SEED_IDS.paidApp}`);
      expect(sub.pricing).toMatchObject({
        priceId: 'Base',
        marketSpecificPricings: { NL: 'Tier1036', DE: 'Tier1036' },
      });
      const echoed = await the.api.put(path, sub);
      expect([echoed.status, echoed.body]).toEqual([
        400,
        expect.objectContaining({
          code: 'InvalidParameterValue',
          message: "'Base' is not a valid PriceId for base price.",
          target: 'pricing',
        }),
      ]);
    });

    test('pricing left out is refused; a pricing without priceId is accepted and makes the app free', async () => {
      const { path, sub } = await create(`applications/${SEED_IDS.paidApp}`);
      const { pricing, ...rest } = sub;
      const missing = await the.api.put(path, rest);
      expect([missing.status, missing.body.message]).toEqual([400, 'Pricing data was not provided in the request.']);
      const { priceId: _dropped, ...withoutPrice } = pricing;
      const silent = await the.api.put(path, { ...sub, pricing: withoutPrice });
      expect(silent.status).toBe(200);
      expect(silent.body.pricing.priceId).toBe('Free');
    });

    test('a real tier round-trips; isAdvancedPricingModel is read-only and reads false after a PUT', async () => {
      const { path, sub } = await create(`applications/${SEED_IDS.tierApp}`);
      expect(sub.pricing.priceId).toBe('Tier5');
      const echoed = await the.api.put(path, sub);
      expect(echoed.status).toBe(200);
      expect(echoed.body.pricing).toMatchObject({ priceId: 'Tier5', marketSpecificPricings: { US: 'Tier7' } });
      const paid = await create(`applications/${SEED_IDS.paidApp}`);
      const tier = await the.api.put(paid.path, {
        ...paid.sub,
        pricing: { ...paid.sub.pricing, priceId: 'Tier1036', isAdvancedPricingModel: true },
      });
      expect(tier.body.pricing).toMatchObject({ priceId: 'Tier1036', isAdvancedPricingModel: false });
    });
  });

  test('images left out of a PUT stay in the submission (StoreBroker ApplicationApi, listings update)', async () => {
    const { path, sub } = await create();
    const listings = structuredClone(sub.listings);
    listings['en-us'].baseListing.images = [];
    delete listings['de-de'].baseListing.images;
    const put = await the.api.put(path, { ...sub, listings });
    expect(put.status).toBe(200);
    expect(put.body.listings['en-us'].baseListing.images).toEqual(sub.listings['en-us'].baseListing.images);
    expect(put.body.listings['de-de'].baseListing.images).toEqual(sub.listings['de-de'].baseListing.images);
  });

  describe('commit checks the data (manage-app-submissions.md limits; StoreBroker#135, #249; msstore-cli)', () => {
    async function commitWith(change: (sub: Loose) => void): Promise<{ status: string; statusDetails: Loose }> {
      const { path, sub } = await create();
      change(sub);
      const put = await the.api.put(path, sub);
      expect([put.status, put.body?.message]).toEqual([200, undefined]);
      await the.api.post(`${path}/commit`);
      return the.api.waitForStatus(path, FINAL);
    }

    test.each([
      [
        '21 features',
        (s: Loose) => (s.listings['en-us'].baseListing.features = Array.from({ length: 21 }, (_, i) => `f${i}`)),
        'listings.en-us.baseListing.features',
      ],
      [
        '12 recommended hardware lines',
        (s: Loose) => (s.listings['de-de'].baseListing.recommendedHardware = Array(12).fill('x')),
        'listings.de-de.baseListing.recommendedHardware',
      ],
      [
        '12 minimum hardware lines',
        (s: Loose) => (s.listings['en-us'].baseListing.minimumHardware = Array(12).fill('x')),
        'listings.en-us.baseListing.minimumHardware',
      ],
      [
        '16 trailers',
        (s: Loose) =>
          (s.trailers = Array.from({ length: 16 }, (_, i) => ({
            id: `${1158943556954955000 + i}`,
            videoFileName: `t${i}.mp4`,
            trailerAssets: {},
          }))),
        'trailers',
      ],
    ])('%s: CommitFailed InvalidParameterValue naming the field', async (_label, change, field) => {
      const end = await commitWith(change);
      expect(end.status).toBe('CommitFailed');
      expect(end.statusDetails.errors).toEqual([
        { code: 'InvalidParameterValue', details: expect.stringContaining(`'${field}'`) },
      ]);
    });

    test('two gaming options objects: CommitFailed MultipleInstancesOfGamingOptions', async () => {
      const end = await commitWith((s) => s.gamingOptions.push({ ...s.gamingOptions[0] }));
      expect(end.statusDetails.errors).toEqual([
        { code: 'MultipleInstancesOfGamingOptions', details: expect.any(String) },
      ]);
    });

    test('an app whose age ratings were never completed, or with errors only Partner Center shows', async () => {
      const seed: SeedData = defaultSeed();
      const demo = seed.applications!.find((a) => a.id === APP)!;
      demo.ageRatingsCompleted = false;
      demo.activeValidationErrors = true;
      await the.emulator.admin.reset(seed);
      const end = await commitWith(() => undefined);
      expect(end.status).toBe('CommitFailed');
      expect(end.statusDetails.errors.map((e: Loose) => e.code)).toEqual(['InvalidMicrosoftAgeRating', 'InvalidState']);
      expect(end.statusDetails.errors[1].details).toMatch(/active validation errors which cannot be exposed via API/);
    });

    test('warnings: SalesUnsupportedWarning on app submissions, ListingOptOutWarning for a listing removed', async () => {
      const end = await commitWith((s) => delete s.listings['de-de']);
      expect(end.status).toBe('Published');
      expect(end.statusDetails.warnings).toEqual([
        {
          code: 'SalesUnsupportedWarning',
          details: expect.stringMatching(/^The sales resource is no longer supported/),
        },
        { code: 'ListingOptOutWarning', details: 'You have removed listing language(s): [de-de]' },
      ]);
    });
  });

  describe('PreProcessing validates the packages (status codes of manage-app-submissions.md; windows-dev-docs#693)', () => {
    const NEW = 'Packages/ContosoDemo_2.0.0.0_x64.msix';

    test('a package of the app, a higher version: processed, and its details read from its manifest', async () => {
      const { end, path } = await submit({ [NEW]: appxPackage({ ...DEMO, version: '2.0.0.0' }) });
      expect(end.status).toBe('Published');
      const pkg = (await the.api.get(path)).body.applicationPackages.find((p: Loose) => p.fileName === NEW);
      expect(pkg).toMatchObject({ version: '2.0.0.0', architecture: 'X64', languages: ['en-us'] });
    });

    test.each([
      [
        'another identity name',
        { ...DEMO, name: 'Fabrikam.Demo', version: '2.0.0.0' },
        /identity name 'Fabrikam\.Demo', but this app's package identity name is 'Contoso\.Demo'/,
      ],
      [
        'another publisher',
        { ...DEMO, publisher: 'CN=Fabrikam', version: '2.0.0.0' },
        /publisher 'CN=Fabrikam', but this app's publisher is 'CN=Contoso Ltd\.'/,
      ],
      [
        'the published version',
        { ...DEMO, version: '1.0.0.0' },
        /version 1\.0\.0\.0, which is not higher than the published package .* \(1\.0\.0\.0\) for the same architecture/,
      ],
      ['a lower version', { ...DEMO, version: '0.9.0.0' }, /version 0\.9\.0\.0, which is not higher/],
    ])('%s: PreProcessingFailed with PackageValidationFailed', async (_label, identity, details) => {
      const { end } = await submit({ [NEW]: appxPackage(identity) });
      expect(end.status).toBe('PreProcessingFailed');
      expect(end.statusDetails.errors).toEqual([
        { code: 'PackageValidationFailed', details: expect.stringMatching(details) },
      ]);
    });

    test('a file that is not an MSIX/APPX package: PreProcessingFailed, invalid or corrupt', async () => {
      const { end } = await submit({ [NEW]: Buffer.from('MZ an executable, not a package'.repeat(40)) });
      expect(end.status).toBe('PreProcessingFailed');
      expect(end.statusDetails.errors[0]).toEqual({
        code: 'PackageValidationFailed',
        details: expect.stringMatching(/is invalid or corrupt \(error 5001\)/),
      });
    });

    test('a bundle in an .msixupload: each architecture against the published one; a compressed upload is read too', async () => {
      const bundle = (arm64: string): Buffer =>
        appxBundle({ ...DEMO, version: '2.0.0.0' }, [
          { fileName: 'Contoso.Demo_2.0.0.0_x64.msix', package: { ...DEMO, version: '2.0.0.0', architecture: 'x64' } },
          { fileName: 'Contoso.Demo_arm64.msix', package: { ...DEMO, version: arm64, architecture: 'arm64' } },
        ]);
      const name = 'Packages/Contoso.Demo_2.0.0.0.msixupload';
      const low = await submit({ [name]: appxUpload('Contoso.Demo_2.0.0.0.msixbundle', bundle('1.0.0.0')) });
      expect(low.end.statusDetails.errors).toEqual([
        {
          code: 'PackageValidationFailed',
          details: expect.stringMatching(/\(arm64\) has version 1\.0\.0\.0, which is not higher/),
        },
      ]);
      await the.api.delete(low.path);
      // Compressed in the uploaded zip: inflated by the emulator to read it.
      const { path, sub } = await create();
      await the.api.put(path, {
        ...sub,
        applicationPackages: [
          ...sub.applicationPackages.map((p: Loose) => ({ ...p, fileStatus: 'PendingDelete' })),
          { fileName: name, fileStatus: 'PendingUpload' },
        ],
      });
      await upload(
        sub.fileUploadUrl,
        await deflatedZip({ [name]: appxUpload('Contoso.Demo_2.0.0.0.msixbundle', bundle('2.0.0.0')) }),
      );
      await the.api.post(`${path}/commit`);
      expect((await the.api.waitForStatus(path, FINAL)).status).toBe('Published');
      const pkg = (await the.api.get(path)).body.applicationPackages.find((p: Loose) => p.fileName === name);
      expect(pkg).toMatchObject({ version: '2.0.0.0', architecture: 'X64,Arm64' });
    });

    test('a flight package is checked against the flight’s published package', async () => {
      const base = `applications/${APP}/flights/${SEED_IDS.demoFlight}`;
      const same = await submit({ 'flight.msix': appxPackage({ ...DEMO, version: '1.1.0.0' }) }, undefined, base);
      expect(same.end.status).toBe('PreProcessingFailed');
      await the.api.delete(same.path);
      const higher = await submit({ 'flight.msix': appxPackage({ ...DEMO, version: '1.1.0.1' }) }, undefined, base);
      expect(higher.end.status).toBe('Published');
    });
  });

  test.each([
    ['preProcessingFailed', 'PreProcessingFailed', 'PackageValidationFailed'],
    ['releaseFailed', 'ReleaseFailed', 'ServiceError'],
    ['publishFailed', 'PublishFailed', 'ServiceError'],
  ] as const)(
    'a %s fault ends the submission in %s (statuses of manage-app-submissions.md)',
    async (kind, status, code) => {
      await the.emulator.admin.fault({ kind, productId: SEED_IDS.demoAddOn });
      const { path } = await create(`inappproducts/${SEED_IDS.demoAddOn}`);
      await the.api.post(`${path}/commit`);
      const end = await the.api.waitForStatus(path, FINAL);
      expect([end.status, end.statusDetails.errors[0]?.code]).toEqual([status, code]);
      expect((await the.api.delete(path)).status).toBe(204);
    },
  );

  describe('trailers and gaming options (manage-app-submissions.md, trailers and gaming options resources)', () => {
    test('a new trailer needs its files in the zip, and gets ids once processed', async () => {
      const trailer = {
        videoFileName: 'Trailers/intro.mp4',
        trailerAssets: {
          'en-us': { title: 'Intro', imageList: [{ fileName: 'Trailers/intro.png', description: 'still' }] },
        },
      };
      const without = await submit({}, (s) => ({
        ...s,
        applicationPackages: s.applicationPackages.map((p: Loose) => ({ ...p, fileStatus: 'Uploaded' })),
        trailers: [trailer],
      }));
      expect(without.end.status).toBe('CommitFailed');
      expect(without.end.statusDetails.errors).toEqual([
        { code: 'MissingFiles', details: expect.stringContaining('Trailers/intro.mp4, Trailers/intro.png') },
      ]);
      await the.api.delete(without.path);
      const withFiles = await submit({ 'Trailers/intro.mp4': 'video', 'Trailers/intro.png': 'png' }, (s) => ({
        ...s,
        applicationPackages: s.applicationPackages.map((p: Loose) => ({ ...p, fileStatus: 'Uploaded' })),
        trailers: [trailer],
      }));
      expect(withFiles.end.status).toBe('Published');
      const [t] = (await the.api.get(withFiles.path)).body.trailers;
      expect(t).toMatchObject({
        id: expect.stringMatching(/^\d{19}$/),
        videoFileId: expect.stringMatching(/^\d{19}$/),
        trailerAssets: { 'en-us': { imageList: [{ id: expect.stringMatching(/^\d{19}$/) }] } },
      });
    });

    test('an app without advanced listing permission has null gamingOptions and trailers, and keeps them null', async () => {
      const { path, sub } = await create(`applications/${SEED_IDS.basicApp}`);
      expect([sub.gamingOptions, sub.trailers]).toEqual([null, null]);
      const put = await the.api.put(path, { ...sub, trailers: [{ videoFileName: 'a.mp4', trailerAssets: {} }] });
      expect([put.status, put.body.trailers, put.body.gamingOptions]).toEqual([200, null, null]);
    });
  });

  test('the first submission of an app cannot be made through the API: 409 (create-and-manage-submissions-using-windows-store-services.md prerequisites)', async () => {
    const res = await the.api.post(`applications/${SEED_IDS.newApp}/submissions`);
    expect([res.status, res.body.code]).toEqual([409, 'InvalidState']);
    expect(res.body.message).toMatch(/first submission.*must be completed in Partner Center/);
  });

  test('a full clone past the size limit answers 500 after creating; isMinimalResponse does not (StoreBroker ApplicationApi)', async () => {
    await the.emulator.admin.configure({ fullCloneMaxBytes: 2000 });
    try {
      const full = await the.api.post(`applications/${APP}/submissions`);
      expect([full.status, full.body.innererror?.code]).toEqual([500, 'UnknownInternalFailure']);
      const app = (await the.api.get(`applications/${APP}`)).body;
      expect(app.pendingApplicationSubmission?.id).toMatch(/^\d{19}$/);
      await the.api.delete(`applications/${APP}/submissions/${app.pendingApplicationSubmission.id}`);
      const minimal = await the.api.post(`applications/${APP}/submissions?isMinimalResponse=true`);
      expect(minimal.status).toBe(201);
      expect(
        (await the.api.get(`applications/${APP}/submissions/${minimal.body.id}`)).body.listings['en-us'],
      ).toBeDefined();
    } finally {
      await the.emulator.admin.configure({ fullCloneMaxBytes: 100_000 });
    }
  });

  test('flights: targetPublishDate "" is taken back; visibility is refused (update-a-flight-submission.md; StoreBroker PR #173)', async () => {
    const { path, sub } = await create(`applications/${APP}/flights/${SEED_IDS.demoFlight}`);
    expect((await the.api.put(path, { ...sub, targetPublishDate: '' })).status).toBe(200);
    const visible = await the.api.put(path, { ...sub, visibility: 'Public' });
    expect([visible.status, visible.body.code]).toEqual([400, 'InvalidParameterValue']);
  });

  test('an add-on that is a Store-managed consumable answers 409 to every call (create-and-manage-submissions-using-windows-store-services.md)', async () => {
    const seed = defaultSeed();
    seed.inAppProducts![0]!.unsupportedFeatures = true;
    await the.emulator.admin.reset(seed);
    for (const res of [
      await the.api.get(`inappproducts/${SEED_IDS.demoAddOn}`),
      await the.api.post(`inappproducts/${SEED_IDS.demoAddOn}/submissions`),
    ]) {
      expect([res.status, res.body.code]).toEqual([409, 'InvalidState']);
    }
  });
});

/** A zip whose entries are deflated (zip.js level 6). */
async function deflatedZip(files: Record<string, Buffer>): Promise<Buffer> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, level: 6 });
  for (const [name, content] of Object.entries(files)) await writer.add(name, new Uint8ArrayReader(content));
  return Buffer.from(await writer.close());
}
