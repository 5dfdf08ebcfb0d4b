import { SEED_IDS } from '../../../sandbox/emulator';
import { type Loose, emulatorPerFile } from './harness';

const APP = SEED_IDS.demoApp;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

describe('Store API emulator: resources and rules', () => {
  const the = emulatorPerFile();

  it('creates an app submission as a deep clone of the last published one, with 201', async () => {
    const published = await the.api.get(`applications/${APP}/submissions/${SEED_IDS.demoAppPublishedSubmission}`);
    const created = await the.api.post(`applications/${APP}/submissions`);
    expect(created.status).toBe(201);
    const sub = created.body;
    expect(sub.id).not.toBe(published.body.id);
    expect(sub.status).toBe('PendingCommit');
    expect(sub.statusDetails).toEqual({ errors: [], warnings: [], certificationReports: [] });
    expect(sub.fileUploadUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/storeingest\/ingestion\/[0-9a-f-]{36}\?/);
    expect(sub.listings).toEqual(published.body.listings);
    expect(sub.applicationPackages.map((p: Loose) => [p.id, p.fileName, p.fileStatus])).toEqual(
      published.body.applicationPackages.map((p: Loose) => [p.id, p.fileName, 'Uploaded']),
    );
    // Deep: changing the clone leaves the published submission alone.
    await the.api.put(`applications/${APP}/submissions/${sub.id}`, {
      ...sub,
      listings: { 'en-us': { baseListing: { title: 'Changed' } } },
    });
    const again = await the.api.get(`applications/${APP}/submissions/${SEED_IDS.demoAppPublishedSubmission}`);
    expect(again.body.listings['en-us'].baseListing.title).toBe('Contoso Demo');

    const app = await the.api.get(`applications/${APP}`);
    expect(app.body.pendingApplicationSubmission).toEqual({
      id: sub.id,
      resourceLocation: `applications/${APP}/submissions/${sub.id}`,
    });
    expect(app.body.lastPublishedApplicationSubmission.id).toBe(SEED_IDS.demoAppPublishedSubmission);
  });

  it('answers isMinimalResponse=true with a sparse submission that GET then completes', async () => {
    const created = await the.api.post(`applications/${APP}/submissions?isMinimalResponse=true`);
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['fileUploadUrl', 'id', 'status', 'statusDetails']);
    const full = await the.api.get(`applications/${APP}/submissions/${created.body.id}`);
    expect(full.body.applicationPackages).toHaveLength(2);
    expect(full.body.fileUploadUrl).toBe(created.body.fileUploadUrl);
  });

  it('keeps ids as 19-digit strings above 2^53', async () => {
    const created = await the.api.post(`applications/${APP}/submissions`);
    for (const id of [created.body.id, ...created.body.applicationPackages.map((p: Loose) => p.id)]) {
      expect(typeof id).toBe('string');
      expect(id).toMatch(/^\d{19}$/);
      expect(BigInt(id) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    }
    // The raw JSON has them quoted: a client parsing JSON cannot lose digits.
    const raw = await the.api.get(`applications/${APP}/submissions/${created.body.id}`);
    expect(raw.text).toContain(`"id":"${created.body.id}"`);
  });

  it('allows one pending submission per product: 409 InvalidState with the error envelope', async () => {
    expect((await the.api.post(`applications/${APP}/submissions`)).status).toBe(201);
    const second = await the.api.post(`applications/${APP}/submissions`);
    expect(second.status).toBe(409);
    expect(second.body).toEqual({
      code: 'InvalidState',
      data: [],
      details: [],
      message: expect.any(String),
      source: 'Ingestion Api',
      target: 'submission',
    });
    expect(second.headers.get('ms-correlationid')).toMatch(GUID);

    expect((await the.api.post(`inappproducts/${SEED_IDS.demoAddOn}/submissions`)).status).toBe(201);
    expect((await the.api.post(`inappproducts/${SEED_IDS.demoAddOn}/submissions`)).status).toBe(409);
  });

  it('sends an MS-CorrelationId GUID on every response, unique per call', async () => {
    const responses = await Promise.all([
      the.api.get('applications'),
      the.api.get('applications/9NNOSUCHAPP0'),
      the.api.call('GET', 'applications', undefined, { Authorization: 'Bearer nope' }),
    ]);
    const ids = responses.map((r) => r.headers.get('ms-correlationid'));
    for (const id of ids) expect(id).toMatch(GUID);
    expect(new Set(ids).size).toBe(3);
  });

  it('answers an unknown resource with 404 and an empty body', async () => {
    for (const path of [
      'applications/9NNOSUCHAPP0',
      `applications/${APP}/submissions/1152921504606846977`,
      `applications/${APP}/flights/${SEED_IDS.demoFlight}/submissions/123`,
      'nothing/here',
    ]) {
      const res = await the.api.get(path);
      expect([path, res.status, res.text]).toEqual([path, 404, '']);
    }
    // A submission id of another product is no 404: the Store says it does not belong (409, rules.test.ts).
    const other = await the.api.get(
      `applications/${SEED_IDS.rolloutApp}/submissions/${SEED_IDS.demoAppPublishedSubmission}`,
    );
    expect(other.status).toBe(409);
  });

  it('treats paths case-insensitively', async () => {
    const created = await the.api.post(`Applications/${APP.toLowerCase()}/Submissions`);
    expect(created.status).toBe(201);
    const commit = await the.api.post(`APPLICATIONS/${APP}/submissions/${created.body.id}/Commit`);
    expect(commit.status).toBe(202);
    expect(commit.body).toEqual({ status: 'CommitStarted' });
  });

  it('refuses API writes to a submission created in Partner Center (400 InvalidOperation) but lets it be read', async () => {
    const path = `applications/${SEED_IDS.portalApp}/submissions/${SEED_IDS.portalAppPendingSubmission}`;
    const read = await the.api.get(path);
    expect(read.status).toBe(200);
    expect(read.body.fileUploadUrl).toBeNull();
    const expected = {
      code: 'InvalidOperation',
      message: 'Ingestion API can only update, delete, and commit submissions that are created through the API',
    };
    for (const res of [
      await the.api.put(path, read.body),
      await the.api.delete(path),
      await the.api.post(`${path}/commit`),
    ]) {
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ ...expected, source: 'Ingestion Api' });
    }
    expect((await the.api.post(`applications/${SEED_IDS.portalApp}/submissions`)).status).toBe(409);
  });

  it('changes a submission only while it is PendingCommit', async () => {
    const created = (await the.api.post(`applications/${APP}/submissions`)).body;
    const path = `applications/${APP}/submissions/${created.id}`;
    expect((await the.api.put(path, { ...created, notesForCertification: 'first' })).status).toBe(200);
    await the.emulator.admin.fault({ kind: 'stuck', submissionId: created.id, status: 'CommitStarted' });
    expect((await the.api.post(`${path}/commit`)).status).toBe(202);
    const put = await the.api.put(path, { ...created, notesForCertification: 'second' });
    expect(put.status).toBe(409);
    expect(put.body.code).toBe('InvalidState');
    expect((await the.api.post(`${path}/commit`)).status).toBe(409);
    expect((await the.api.get(path)).body.notesForCertification).toBe('first');
    // The published submission is not PendingCommit either.
    expect(
      (await the.api.put(`applications/${APP}/submissions/${SEED_IDS.demoAppPublishedSubmission}`, {})).status,
    ).toBe(409);
    expect(
      (await the.api.delete(`applications/${APP}/submissions/${SEED_IDS.demoAppPublishedSubmission}`)).status,
    ).toBe(409);
    // Nor can the pending one be deleted while the Store processes it (Iktahana/illusions#1349).
    const refused = await the.api.delete(path);
    expect([refused.status, refused.body.message]).toEqual([409, 'Submission in its current state cannot be deleted']);
    expect((await the.api.get(path)).status).toBe(200);
  });

  it('answers 409 to every call on an app that uses unsupported features', async () => {
    const app = `applications/${SEED_IDS.unsupportedApp}`;
    for (const res of [
      await the.api.get(app),
      await the.api.post(`${app}/submissions`),
      await the.api.get(`${app}/listflights`),
      await the.api.post(`${app}/flights`, { friendlyName: 'x' }),
    ]) {
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('InvalidState');
    }
  });

  it('validates the types of known fields on PUT and names the field', async () => {
    const created = (await the.api.post(`applications/${APP}/submissions`)).body;
    const path = `applications/${APP}/submissions/${created.id}`;
    const listing = (baseListing: Loose): Loose => ({ 'en-us': { baseListing, platformOverrides: {} } });
    const cases: Array<[Loose, string]> = [
      [{ visibility: 'Everyone' }, 'visibility'],
      [{ automaticBackupEnabled: 'yes' }, 'automaticBackupEnabled'],
      [{ listings: { 'en-us': { baseListing: { keywords: 'a,b' } } } }, 'listings.en-us.baseListing.keywords'],
      [{ applicationPackages: [{ fileName: 'a.msix', fileStatus: 'Done' }] }, 'applicationPackages[0].fileStatus'],
      [{ applicationPackages: [{ fileStatus: 'PendingUpload' }] }, 'applicationPackages[0].fileName'],
      [{ targetPublishMode: 'SpecificDate', targetPublishDate: null }, 'targetPublishDate'],
      [
        { packageDeliveryOptions: { packageRollout: { packageRolloutPercentage: 150 } } },
        'packageDeliveryOptions.packageRollout.packageRolloutPercentage',
      ],
      // The enums and tiers of manage-app-submissions.md.
      [{ applicationCategory: 'Tools' }, 'applicationCategory'],
      [{ pricing: { ...created.pricing, priceId: 'Tier100' } }, 'pricing.priceId'],
      [{ pricing: { ...created.pricing, trialPeriod: 'TwoWeeks' } }, 'pricing.trialPeriod'],
      [
        { pricing: { ...created.pricing, marketSpecificPricings: { US: '4.99' } } },
        'pricing.marketSpecificPricings.US',
      ],
      [{ hardwarePreferences: ['Pen'] }, 'hardwarePreferences[0]'],
      [{ enterpriseLicensing: 'Offline' }, 'enterpriseLicensing'],
      [{ allowTargetFutureDeviceFamilies: { Desktop: true, Car: true } }, 'allowTargetFutureDeviceFamilies.Car'],
      [
        { listings: listing({ images: [{ fileName: 'a.png', fileStatus: 'PendingUpload', imageType: 'Banner' }] }) },
        'listings.en-us.baseListing.images[0].imageType',
      ],
      [
        { listings: { 'en-us': { baseListing: {}, platformOverrides: { Windows10: {} } } } },
        'listings.en-us.platformOverrides.Windows10',
      ],
      [
        {
          applicationPackages: [
            { fileName: 'a.msix', fileStatus: 'PendingUpload', minimumDirectXVersion: 'DirectX12' },
          ],
        },
        'applicationPackages[0].minimumDirectXVersion',
      ],
      [{ gamingOptions: [{ genres: ['Games_Racing'] }] }, 'gamingOptions[0].genres[0]'],
      [{ trailers: [{ trailerAssets: {} }] }, 'trailers[0].videoFileName'],
    ];
    for (const [change, field] of cases) {
      const res = await the.api.put(path, { ...created, ...change });
      expect([field, res.status, res.body.code]).toEqual([field, 400, 'InvalidParameterValue']);
      expect(res.body.message).toContain(`'${field}'`);
    }
    const notJson = await the.api.call('PUT', path, '{"broken"', {});
    expect(notJson.status).toBe(400);
    const wrongCharset = await the.api.call('PUT', path, '{}', { 'Content-Type': 'application/json; charset=utf8' });
    expect(wrongCharset.status).toBe(400);
  });

  it('merges packages on PUT: PendingUpload stays pending, PendingDelete marks removal, left-out ones are kept, at most 25', async () => {
    const created = (await the.api.post(`applications/${APP}/submissions`)).body;
    const path = `applications/${APP}/submissions/${created.id}`;
    const [first, second] = created.applicationPackages;
    // A package of the submission left out of the PUT: 400 (windows-dev-docs#1887).
    const leftOut = await the.api.put(path, { ...created, applicationPackages: [first] });
    expect([leftOut.status, leftOut.body.code, leftOut.body.target]).toEqual([
      400,
      'InvalidParameterValue',
      'packages',
    ]);
    expect(leftOut.body.message).toBe(
      'Please keep all file entries for existing packages. If you wish to remove a package, mark it as PendingDelete. ' +
        `The following packages are missing in your update: ${second.id}`,
    );
    const put = await the.api.put(path, {
      ...created,
      applicationPackages: [
        { ...first, fileStatus: 'PendingDelete' },
        second,
        {
          fileName: 'Packages/ContosoDemo_2.0.0.0_x64.msix',
          fileStatus: 'PendingUpload',
          minimumDirectXVersion: 'None',
          minimumSystemRam: 'None',
        },
      ],
    });
    expect(put.status).toBe(200);
    const byName = Object.fromEntries(put.body.applicationPackages.map((p: Loose) => [p.fileName, p.fileStatus]));
    expect(byName).toEqual({
      [first.fileName]: 'PendingDelete',
      [second.fileName]: 'Uploaded',
      'Packages/ContosoDemo_2.0.0.0_x64.msix': 'PendingUpload',
    });

    const many = Array.from({ length: 24 }, (_, i) => ({
      fileName: `Packages/p${i}.msix`,
      fileStatus: 'PendingUpload',
    }));
    const current = put.body.applicationPackages;
    const tooMany = await the.api.put(path, { ...put.body, applicationPackages: [...current, ...many] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toContain('applicationPackages');
    // Marking one for deletion makes room.
    const fits = await the.api.put(path, {
      ...put.body,
      applicationPackages: [
        ...current.map((p: Loose) => (p.fileName === second.fileName ? { ...p, fileStatus: 'PendingDelete' } : p)),
        ...many,
      ],
    });
    expect(fits.status).toBe(200);
  });

  it('requires add-on listings to be non-empty and keywords to stay within 10', async () => {
    const sub = (await the.api.post(`inappproducts/${SEED_IDS.demoAddOn}/submissions`)).body;
    const path = `inappproducts/${SEED_IDS.demoAddOn}/submissions/${sub.id}`;
    const empty = await the.api.put(path, { ...sub, listings: {} });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({
      code: 'InvalidParameterValue',
      message: 'The size of Listings must be 1 or more',
    });
    const keywords = await the.api.put(path, { ...sub, keywords: Array.from({ length: 11 }, (_, i) => `k${i}`) });
    expect(keywords.status).toBe(400);
    const ok = await the.api.put(path, {
      ...sub,
      listings: {
        'fr-fr': { title: 'Démo', description: 'd', icon: { fileName: 'icon-fr.png', fileStatus: 'PendingUpload' } },
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.listings['fr-fr'].icon.fileStatus).toBe('PendingUpload');
  });

  it("validates an add-on's enums on PUT and names the field (manage-add-on-submissions.md: contentType, lifetime, pricing)", async () => {
    const sub = (await the.api.post(`inappproducts/${SEED_IDS.demoAddOn}/submissions`)).body;
    const path = `inappproducts/${SEED_IDS.demoAddOn}/submissions/${sub.id}`;
    const cases: Array<[Loose, string]> = [
      [{ contentType: 'EBook' }, 'contentType'],
      [{ lifetime: 'OneHour' }, 'lifetime'],
      [{ pricing: { ...sub.pricing, priceId: 'Tier100' } }, 'pricing.priceId'],
    ];
    for (const [change, field] of cases) {
      const res = await the.api.put(path, { ...sub, ...change });
      expect([field, res.status, res.body.code]).toEqual([field, 400, 'InvalidParameterValue']);
      expect(res.body.message).toContain(`'${field}'`);
    }
    // The values the docs list are taken.
    const ok = await the.api.put(path, { ...sub, contentType: 'OnlineDataStorage', lifetime: 'ThreeMonths' });
    expect([ok.status, ok.body.contentType, ok.body.lifetime]).toEqual([200, 'OnlineDataStorage', 'ThreeMonths']);
  });

  it('pages list calls with top, skip and @nextLink', async () => {
    const first = await the.api.get('applications?top=2');
    expect(first.body.value).toHaveLength(2);
    expect(first.body.totalCount).toBe(8);
    // Relative to /v1.0/my/, in the docs' shape (get-all-add-ons.md: "inappproducts/?skip=5&top=5").
    expect(first.body['@nextLink']).toBe('applications/?skip=2&top=2');
    const rest = await the.api.get('applications?skip=2&top=6');
    expect(rest.body.value).toHaveLength(6);
    expect(rest.body['@nextLink']).toBeUndefined();
    const ids = [...first.body.value, ...rest.body.value].map((a: Loose) => a.id);
    expect(new Set(ids).size).toBe(8);
    expect((await the.api.get('applications?top=abc')).status).toBe(400);

    for (const name of ['Two', 'Three'])
      expect((await the.api.post(`applications/${APP}/flights`, { friendlyName: name, groupIds: ['1'] })).status).toBe(
        200,
      );
    const flights = await the.api.get(`applications/${APP}/listflights?top=1&skip=1`);
    expect(flights.body.totalCount).toBe(3);
    expect(flights.body.value).toHaveLength(1);
    expect(flights.body['@nextLink']).toBe(`applications/${APP}/listflights/?skip=2&top=1`);
    const addOns = await the.api.get(`applications/${APP}/listinappproducts`);
    expect(addOns.body).toEqual({ value: [{ inAppProductId: SEED_IDS.demoAddOn }], totalCount: 1 });
  });

  it('creates, reads and deletes flights, and clones flight submissions', async () => {
    const created = await the.api.post(`applications/${APP}/flights`, {
      friendlyName: 'Insiders',
      groupIds: ['1152921504606962205', 7],
      rankHigherThan: 'Beta testers',
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      flightId: expect.stringMatching(GUID),
      friendlyName: 'Insiders',
      groupIds: ['1152921504606962205', '7'],
      rankHigherThan: 'Beta testers',
    });
    const flightPath = `applications/${APP}/flights/${created.body.flightId}`;
    expect((await the.api.post(`applications/${APP}/flights`, { friendlyName: 'insiders' })).status).toBe(409);

    // A flight never published starts from a blank submission.
    const blank = await the.api.post(`${flightPath}/submissions`);
    expect(blank.status).toBe(201);
    expect(blank.body).toMatchObject({ flightId: created.body.flightId, flightPackages: [], status: 'PendingCommit' });
    expect((await the.api.get(flightPath)).body.pendingFlightSubmission.id).toBe(blank.body.id);

    const beta = await the.api.post(`applications/${APP}/flights/${SEED_IDS.demoFlight}/submissions`);
    expect(beta.body.flightPackages).toHaveLength(1);

    expect((await the.api.delete(flightPath)).status).toBe(204);
    expect((await the.api.get(flightPath)).status).toBe(404);
    expect((await the.api.get(`${flightPath}/submissions/${blank.body.id}`)).status).toBe(404);
  });

  it('creates, lists and deletes add-ons', async () => {
    const bad = await the.api.post('inappproducts', {
      applicationIds: [APP],
      productId: 'coins',
      productType: 'Subscription',
    });
    expect(bad.status).toBe(400);
    expect(
      (
        await the.api.post('inappproducts', {
          applicationIds: [APP, SEED_IDS.rolloutApp],
          productId: 'coins',
          productType: 'Consumable',
        })
      ).status,
    ).toBe(400);
    const created = await the.api.post('inappproducts', {
      applicationIds: [APP],
      productId: 'coins',
      productType: 'Consumable',
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^9N[0-9A-Z]{10}$/),
      productId: 'coins',
      productType: 'Consumable',
    });
    expect(created.body.applications).toEqual({
      value: [{ id: APP, resourceLocation: `applications/${APP}` }],
      totalCount: 1,
    });
    expect(
      (await the.api.post('inappproducts', { applicationIds: [APP], productId: 'coins', productType: 'Consumable' }))
        .status,
    ).toBe(409);

    const list = await the.api.get('inappproducts');
    expect(list.body.value.map((a: Loose) => a.productId).sort()).toEqual(['coins', 'demo-addon']);
    // A never-published add-on gets a blank submission, whose empty listings a PUT must fill.
    const sub = await the.api.post(`inappproducts/${created.body.id}/submissions`);
    expect(sub.body.listings).toEqual({});

    expect((await the.api.delete(`inappproducts/${created.body.id}`)).status).toBe(204);
    expect((await the.api.get(`inappproducts/${created.body.id}`)).status).toBe(404);
  });

  it('runs the package rollout calls only on a published submission with a rollout in progress', async () => {
    const base = `applications/${SEED_IDS.rolloutApp}/submissions/${SEED_IDS.rolloutAppPublishedSubmission}`;
    const blocked = await the.api.post(`applications/${SEED_IDS.rolloutApp}/submissions`);
    expect(blocked.status).toBe(409);
    expect(blocked.body.message).toMatch(/rollout/);

    const rollout = await the.api.get(`${base}/packagerollout`);
    expect(rollout.body).toEqual({
      isPackageRollout: true,
      packageRolloutPercentage: 25,
      packageRolloutStatus: 'PackageRolloutInProgress',
      fallbackSubmissionId: SEED_IDS.rolloutAppPreviousSubmission,
    });
    expect((await the.api.post(`${base}/updatepackagerolloutpercentage?percentage=abc`)).status).toBe(400);
    const updated = await the.api.post(`${base}/updatepackagerolloutpercentage?percentage=50.5`);
    expect(updated.body.packageRolloutPercentage).toBe(50.5);
    const halted = await the.api.post(`${base}/haltpackagerollout`);
    // Halting stops the rollout and takes the percentage to 0 (halt-the-package-rollout-for-an-app-submission.md).
    expect(halted.body).toMatchObject({ packageRolloutStatus: 'PackageRolloutStopped', packageRolloutPercentage: 0 });
    // Halted: no rollout in progress any more, so the calls answer 409 and a new submission is allowed.
    expect((await the.api.post(`${base}/finalizepackagerollout`)).status).toBe(409);
    expect((await the.api.post(`applications/${SEED_IDS.rolloutApp}/submissions`)).status).toBe(201);

    await the.emulator.admin.reset();
    const finalized = await the.api.post(`${base}/finalizepackagerollout`);
    expect(finalized.body).toMatchObject({
      packageRolloutStatus: 'PackageRolloutComplete',
      packageRolloutPercentage: 100,
    });
    // No rollout on the demo app's published submission: GET answers 200 with NotStarted values
    // (get-package-rollout-info-for-an-app-submission.md); the changing calls answer 409.
    const none = await the.api.get(
      `applications/${APP}/submissions/${SEED_IDS.demoAppPublishedSubmission}/packagerollout`,
    );
    expect([none.status, none.body]).toEqual([
      200,
      {
        isPackageRollout: false,
        packageRolloutPercentage: 0,
        packageRolloutStatus: 'PackageRolloutNotStarted',
        fallbackSubmissionId: '0',
      },
    ]);
    expect(
      (await the.api.post(`applications/${APP}/submissions/${SEED_IDS.demoAppPublishedSubmission}/haltpackagerollout`))
        .status,
    ).toBe(409);
  });

  it('loads custom seed data on reset', async () => {
    await the.emulator.admin.reset({
      applications: [
        {
          id: '9NSEEDED00001',
          primaryName: 'Seeded',
          published: { id: '1152921504699999999', applicationPackages: [{ fileName: 'a.msix' }] },
        },
      ],
    });
    const apps = await the.api.get('applications');
    expect(apps.body.value.map((a: Loose) => a.id)).toEqual(['9NSEEDED00001']);
    const sub = await the.api.get('applications/9NSEEDED00001/submissions/1152921504699999999');
    expect(sub.body).toMatchObject({
      status: 'Published',
      applicationPackages: [{ fileName: 'a.msix', fileStatus: 'Uploaded' }],
    });
    await expect(the.emulator.admin.reset({ applications: [{ id: 'X' } as Loose] })).rejects.toThrow(/primaryName/);
    await the.emulator.admin.reset('default');
  });
});
