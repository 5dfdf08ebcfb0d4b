import {
  MAX_VALUE,
  PREVIEW_STATUS_UTF16_BYTES,
  boundPreview,
  previewChanges,
  previewLines,
  shorten,
} from '../../lib/preview';
import { CUSTOM_STATUS_BUDGET_BYTES, utf16Bytes } from '../../lib/statusBound';
import { ROLLOUT_NOT_STARTED, storeClone } from '../../lib/storePreview';

type Json = Record<string, unknown>;

function published(): Json {
  return {
    id: '1152921504621243610',
    status: 'Published',
    statusDetails: { errors: [], warnings: [], certificationReports: [] },
    friendlyName: 'Submission 1',
    visibility: 'Public',
    targetPublishMode: 'Immediate',
    pricing: { trialPeriod: 'NoFreeTrial', priceId: 'Free', isAdvancedPricingModel: true, marketSpecificPricings: {} },
    allowTargetFutureDeviceFamilies: { Desktop: true, Mobile: false, Xbox: false },
    packageDeliveryOptions: {
      packageRollout: {
        isPackageRollout: false,
        packageRolloutPercentage: 0,
        packageRolloutStatus: 'PackageRolloutNotStarted',
        fallbackSubmissionId: '0',
      },
      isMandatoryUpdate: false,
    },
    listings: {
      'en-us': {
        baseListing: {
          title: 'Contoso',
          description: 'An app.',
          keywords: ['tools'],
          images: [{ fileName: 'Images/shot.png', fileStatus: 'Uploaded', imageType: 'Screenshot', id: '1' }],
        },
        platformOverrides: {},
      },
      'de-de': { baseListing: { title: 'Contoso', description: 'Eine App.', images: [] }, platformOverrides: {} },
    },
    applicationPackages: [
      { fileName: 'Packages/App_1.0.0.0_x64.msix', fileStatus: 'Uploaded', version: '1.0.0.0', architecture: 'X64' },
    ],
  };
}

/** The Store's clone of `published` as a new submission: what it resets itself is not a change. */
function cloneOf(p: Json): Json {
  const c = structuredClone(p);
  c.id = '1152921504621243999';
  c.status = 'PendingCommit';
  c.friendlyName = 'Submission 2';
  c.fileUploadUrl = 'https://example.invalid/upload?sig=secret';
  (c.pricing as Json).isAdvancedPricingModel = false;
  return c;
}

describe('previewChanges', () => {
  it('finds nothing in a clone the manifest did not change', () => {
    const p = published();
    expect(previewChanges('app', p, cloneOf(p))).toEqual({
      against: '1152921504621243610',
      counts: { language: 0, text: 0, image: 0, package: 0, setting: 0 },
      changes: [],
    });
  });

  it('lists one text change, a replaced package with its facts, and nothing else', () => {
    const p = published();
    const next = cloneOf(p);
    (((next.listings as Json)['en-us'] as Json).baseListing as Json).description = 'A faster app.';
    next.applicationPackages = [
      { ...(p.applicationPackages as Json[])[0], fileStatus: 'PendingDelete' },
      { fileName: 'packages/App_2.0.0.0_x64.msixupload', fileStatus: 'PendingUpload' },
    ];
    const preview = previewChanges('app', p, next, {
      'packages/App_2.0.0.0_x64.msixupload': { version: '2.0.0.0', architecture: 'X64' },
    });
    expect(preview.changes).toEqual([
      {
        area: 'text',
        change: 'changed',
        language: 'en-us',
        field: 'description',
        before: 'An app.',
        after: 'A faster app.',
      },
      {
        area: 'package',
        change: 'removed',
        fileName: 'Packages/App_1.0.0.0_x64.msix',
        version: '1.0.0.0',
        architecture: 'X64',
      },
      {
        area: 'package',
        change: 'added',
        fileName: 'packages/App_2.0.0.0_x64.msixupload',
        version: '2.0.0.0',
        architecture: 'X64',
      },
    ]);
    expect(preview.counts).toEqual({ language: 0, text: 1, image: 0, package: 2, setting: 0 });
  });

  it('lists languages, images and settings changed, with both values', () => {
    const p = published();
    const next = cloneOf(p);
    const listings = next.listings as Json;
    delete listings['de-de'];
    listings['fr-fr'] = { baseListing: { title: 'Contoso FR' }, platformOverrides: {} };
    const en = (listings['en-us'] as Json).baseListing as Json;
    en.keywords = ['tools', 'files'];
    en.images = [
      { ...(en.images as Json[])[0], fileStatus: 'PendingDelete' },
      { fileName: 'images/new.png', fileStatus: 'PendingUpload', imageType: 'Screenshot' },
    ];
    next.visibility = 'Hidden';
    (next.pricing as Json).priceId = 'Tier2';
    (next.packageDeliveryOptions as Json).packageRollout = {
      isPackageRollout: true,
      packageRolloutPercentage: 10,
      packageRolloutStatus: 'PackageRolloutNotStarted',
      fallbackSubmissionId: '0',
    };
    (next.packageDeliveryOptions as Json).isMandatoryUpdate = true;
    (next.allowTargetFutureDeviceFamilies as Json).Xbox = true;
    const { changes, counts } = previewChanges('app', p, next);
    expect(changes).toEqual([
      { area: 'language', change: 'removed', language: 'de-de' },
      {
        area: 'text',
        change: 'changed',
        language: 'en-us',
        field: 'keywords',
        before: '["tools"]',
        after: '["tools","files"]',
      },
      { area: 'image', change: 'removed', language: 'en-us', fileName: 'Images/shot.png', imageType: 'Screenshot' },
      { area: 'image', change: 'added', language: 'en-us', fileName: 'images/new.png', imageType: 'Screenshot' },
      { area: 'language', change: 'added', language: 'fr-fr' },
      { area: 'text', change: 'added', language: 'fr-fr', field: 'title', after: 'Contoso FR' },
      {
        area: 'setting',
        change: 'changed',
        field: 'allowTargetFutureDeviceFamilies.Xbox',
        before: 'false',
        after: 'true',
      },
      {
        area: 'setting',
        change: 'changed',
        field: 'packageDeliveryOptions.isMandatoryUpdate',
        before: 'false',
        after: 'true',
      },
      {
        area: 'setting',
        change: 'changed',
        field: 'packageDeliveryOptions.packageRollout.isPackageRollout',
        before: 'false',
        after: 'true',
      },
      {
        area: 'setting',
        change: 'changed',
        field: 'packageDeliveryOptions.packageRollout.packageRolloutPercentage',
        before: '0',
        after: '10',
      },
      { area: 'setting', change: 'changed', field: 'pricing.priceId', before: 'Free', after: 'Tier2' },
      { area: 'setting', change: 'changed', field: 'visibility', before: 'Public', after: 'Hidden' },
    ]);
    expect(counts).toEqual({ language: 2, text: 2, image: 2, package: 0, setting: 6 });
  });

  it("compares an add-on's listings and icon, and a first submission against nothing", () => {
    const before = {
      id: '1',
      listings: {
        'en-us': { title: 'Coins', description: 'Some', icon: { fileName: 'icon.png', fileStatus: 'Uploaded' } },
      },
    };
    const after = {
      id: '2',
      listings: {
        'en-us': { title: 'Coins', description: 'More', icon: { fileName: 'icon2.png', fileStatus: 'PendingUpload' } },
      },
    };
    expect(previewChanges('addon', before, after).changes).toEqual([
      { area: 'text', change: 'changed', language: 'en-us', field: 'description', before: 'Some', after: 'More' },
      { area: 'image', change: 'added', language: 'en-us', fileName: 'icon2.png', imageType: 'Icon' },
      { area: 'image', change: 'removed', language: 'en-us', fileName: 'icon.png', imageType: 'Icon' },
    ]);
    const first = previewChanges('flight', undefined, {
      id: '3',
      flightPackages: [{ fileName: 'a.msix', fileStatus: 'PendingUpload' }],
      targetPublishMode: 'Immediate',
    });
    expect(first.against).toBeUndefined();
    expect(first.changes).toEqual([
      { area: 'package', change: 'added', fileName: 'a.msix' },
      { area: 'setting', change: 'added', field: 'targetPublishMode', after: 'Immediate' },
    ]);
  });

  it('shortens long values and keeps the status copy under a bound, saying how many it left out', () => {
    expect(shorten('x'.repeat(500))).toHaveLength(MAX_VALUE);
    expect(shorten('x'.repeat(500))?.endsWith('…')).toBe(true);
    const p = published();
    const next = cloneOf(p);
    const listings = next.listings as Json;
    for (let i = 0; i < 200; i++)
      listings[`x-${i}`] = { baseListing: { title: `T${i}`, description: 'd'.repeat(300) } };
    const full = previewChanges('app', p, next);
    expect(full.changes).toHaveLength(600);
    const bounded = boundPreview(full, 4096);
    expect(utf16Bytes(bounded)).toBeLessThanOrEqual(4096);
    expect(bounded.changes.length).toBeGreaterThan(0);
    expect(bounded.changes.length + bounded.omitted!).toBe(600);
    expect(bounded.counts).toEqual(full.counts);
    expect(boundPreview(previewChanges('app', p, cloneOf(p)), 4096)).not.toHaveProperty('omitted');
    expect(previewLines(bounded).at(-1)).toBe(
      `  ... and ${bounded.omitted} more (all of them are in the run's report)`,
    );
  });

  it('never cuts a surrogate pair in half', () => {
    // 118 ASCII characters, then a character outside the BMP across the cut.
    const cut = shorten(`${'a'.repeat(MAX_VALUE - 2)}😀😀`)!;
    expect(cut.length).toBeLessThanOrEqual(MAX_VALUE);
    expect(cut).toBe(`${'a'.repeat(MAX_VALUE - 2)}…`);
    expect(JSON.stringify(cut)).not.toMatch(/\\u[dD][89abAB]/);
    expect(shorten('😀'.repeat(200))).toBe(`${'😀'.repeat((MAX_VALUE - 2) / 2)}…`);
  });

  it('bounds a huge preview in UTF-16, as the Durable host measures a custom status', () => {
    // Thousands of changed fields, long texts, non-ASCII text (CJK takes 3 bytes in UTF-8 and 2
    // in UTF-16; ASCII 1 and 2: a UTF-8 bound would let an ASCII status grow to twice its size).
    const p = published();
    const next = cloneOf(p);
    const listings = next.listings as Json;
    const texts = [
      '说明'.repeat(2000),
      'Ä'.repeat(5000),
      'x'.repeat(10_000),
      '😀'.repeat(3000),
      'mixed ascii ü 日本 😀 '.repeat(400),
    ];
    for (let i = 0; i < 400; i++) {
      const base: Json = {};
      for (let f = 0; f < 10; f++) base[`field${f}`] = `${texts[(i + f) % texts.length]}${i}`;
      listings[`l-${i}`] = { baseListing: base };
    }
    const market: Json = {};
    for (let i = 0; i < 2000; i++) market[`M${i}`] = `Tier${i}`;
    next.pricing = { ...(next.pricing as Json), marketSpecificPricings: market };
    const full = previewChanges('app', p, next);
    expect(full.changes.length).toBeGreaterThan(6000);
    expect(utf16Bytes(full)).toBeGreaterThan(100 * PREVIEW_STATUS_UTF16_BYTES);

    const bounded = boundPreview(full);
    // The measure the host uses: two bytes per UTF-16 code unit of the JSON.
    expect(JSON.stringify(bounded).length * 2).toBeLessThanOrEqual(PREVIEW_STATUS_UTF16_BYTES);
    expect(bounded.changes.length).toBeGreaterThan(0);
    expect(bounded.changes).toEqual(full.changes.slice(0, bounded.changes.length));
    expect(bounded.omitted).toBe(full.changes.length - bounded.changes.length);
    expect(bounded.counts).toEqual(full.counts);
    // It is as full as it can be: the next change would not have fitted.
    const oneMore = {
      ...bounded,
      changes: full.changes.slice(0, bounded.changes.length + 1),
      omitted: bounded.omitted! - 1,
    };
    expect(utf16Bytes(oneMore)).toBeGreaterThan(PREVIEW_STATUS_UTF16_BYTES);
    // Every value is whole code points, shortened.
    for (const c of bounded.changes)
      for (const v of [c.before, c.after])
        if (v !== undefined) {
          expect(v.length).toBeLessThanOrEqual(MAX_VALUE);
          expect(JSON.stringify(v)).not.toMatch(/\\u[dD][89abAB]/);
        }
    // The whole custom status stays under its budget (16 KB of UTF-16 is the limit); the preview leaves most of it to the rest.
    expect(PREVIEW_STATUS_UTF16_BYTES).toBeLessThanOrEqual(CUSTOM_STATUS_BUDGET_BYTES / 3);
  });

  it('prints one line per change', () => {
    const p = published();
    const next = cloneOf(p);
    next.visibility = 'Private';
    next.applicationPackages = [{ fileName: 'b.msix', fileStatus: 'PendingUpload' }];
    expect(
      previewLines(previewChanges('app', p, next, { 'b.msix': { version: '2.0.0.0', architecture: 'X64' } })),
    ).toEqual([
      'Changes against the published submission 1152921504621243610:',
      '  added package b.msix (2.0.0.0, X64)',
      '  removed package Packages/App_1.0.0.0_x64.msix (1.0.0.0, X64)',
      '  setting visibility changed "Public" → "Private"',
    ]);
    expect(previewLines(previewChanges('app', p, cloneOf(p)))).toEqual([
      'No changes against submission 1152921504621243610.',
    ]);
  });
});

describe('storeClone: the submission the Store makes from the published one', () => {
  it('has every file Uploaded and no rollout started, and leaves the published submission as it was', () => {
    const published = {
      id: '1152921504606962205',
      applicationPackages: [{ fileName: 'a.msix', fileStatus: 'PendingUpload' }],
      listings: { 'en-us': { baseListing: { images: [{ fileName: 'x.png', fileStatus: 'PendingDelete' }] } } },
      packageDeliveryOptions: {
        isMandatoryUpdate: false,
        packageRollout: {
          isPackageRollout: true,
          packageRolloutPercentage: 25,
          packageRolloutStatus: 'PackageRolloutInProgress',
          fallbackSubmissionId: '1152921504606962204',
        },
      },
    };
    const before = structuredClone(published);
    expect(storeClone(published)).toEqual({
      id: '1152921504606962205',
      applicationPackages: [{ fileName: 'a.msix', fileStatus: 'Uploaded' }],
      listings: { 'en-us': { baseListing: { images: [{ fileName: 'x.png', fileStatus: 'Uploaded' }] } } },
      packageDeliveryOptions: { isMandatoryUpdate: false, packageRollout: { ...ROLLOUT_NOT_STARTED } },
    });
    expect(published).toEqual(before);
    // As a run's preview shows it: the published rollout does not carry over.
    const changes = previewChanges('app', published, storeClone(published)).changes.map((c) => c.field);
    expect(changes).toEqual([
      'packageDeliveryOptions.packageRollout.isPackageRollout',
      'packageDeliveryOptions.packageRollout.packageRolloutPercentage',
    ]);
  });
});
