import { DEFAULT_OPTIONS, Manifest, mergeSubmission, pendingUploads } from '../../../lib/manifest';
import type { ZipEntryInfo } from '../../../lib/zip/blobZip';
import { ADDON_ID, APP_ID, FLIGHT_ID } from '../../helpers/zips';

type Item = Record<string, unknown>;
/** Walks into merged JSON: at(x, 'listings', 'de') is x.listings.de. */
const at = (v: unknown, ...keys: Array<string | number>): unknown =>
  keys.reduce<unknown>((o, k) => (o as Item | undefined)?.[k], v);
const items = (v: unknown): Item[] => v as Item[];
const entry = (name: string): ZipEntryInfo => ({
  name,
  directory: name.endsWith('/'),
  compressedSize: 1,
  uncompressedSize: 1,
});
const app = (submission: Record<string, unknown>, options: Partial<Manifest['options']> = {}): Manifest => ({
  target: { kind: 'app', applicationId: APP_ID },
  submission,
  options: { ...DEFAULT_OPTIONS, ...options },
});

/** Shaped like the Store's clone of a published app submission. */
function publishedApp(): Record<string, unknown> {
  return {
    id: '1152921504621243540',
    status: 'PendingCommit',
    visibility: 'Public',
    pricing: {
      trialPeriod: 'NoFreeTrial',
      marketSpecificPricings: { US: 'Tier4' },
      priceId: 'Tier2',
      isAdvancedPricingModel: true,
    },
    hardwarePreferences: ['Touch', 'Keyboard'],
    applicationPackages: [
      {
        fileName: 'old_x64.msixupload',
        fileStatus: 'Uploaded',
        id: '1152921504620138797',
        version: '1.0.0.0',
        minimumDirectXVersion: 'None',
        minimumSystemRam: 'None',
      },
      {
        fileName: 'old_arm64.msixupload',
        fileStatus: 'Uploaded',
        id: '1152921504620138798',
        version: '1.0.0.0',
        minimumDirectXVersion: 'None',
        minimumSystemRam: 'None',
      },
    ],
    listings: {
      'en-us': {
        baseListing: {
          title: 'Contoso',
          description: 'English description',
          features: ['fast', 'small'],
          images: [{ fileName: 'en1.png', fileStatus: 'Uploaded', id: '1', imageType: 'Screenshot' }],
        },
        platformOverrides: {
          Windows81: {
            description: 'For 8.1',
            images: [{ fileName: 'w81.png', fileStatus: 'Uploaded', id: '9', imageType: 'Screenshot' }],
          },
        },
      },
      de: {
        baseListing: {
          title: 'Contoso DE',
          images: [{ fileName: 'de1.png', fileStatus: 'Uploaded', id: '2', imageType: 'Screenshot' }],
        },
      },
    },
    trailers: [
      {
        id: '1158943556954955699',
        videoFileName: 'Trailers\\old.mp4',
        trailerAssets: { 'en-us': { title: 'Old', imageList: [{ fileName: 'Images\\old.png', id: '5' }] } },
      },
    ],
  };
}

describe('mergeSubmission', () => {
  test('objects merge key by key, arrays and other values replace, unnamed fields stay as published', () => {
    const cloned = publishedApp();
    const merged = mergeSubmission(
      'app',
      cloned,
      app({
        pricing: { priceId: 'Free' },
        hardwarePreferences: ['Mouse'],
        listings: { 'en-us': { baseListing: { description: 'New', features: ['faster'] } } },
        targetPublishDate: null,
      }),
      [],
    );
    expect(merged.pricing).toEqual({
      trialPeriod: 'NoFreeTrial',
      marketSpecificPricings: { US: 'Tier4' },
      priceId: 'Free',
      isAdvancedPricingModel: true,
    });
    expect(merged.hardwarePreferences).toEqual(['Mouse']);
    expect(merged.targetPublishDate).toBeNull();
    expect(at(merged, 'listings', 'en-us', 'baseListing')).toEqual({
      title: 'Contoso',
      description: 'New',
      features: ['faster'],
      images: [{ fileName: 'en1.png', fileStatus: 'Uploaded', id: '1', imageType: 'Screenshot' }],
    });
    expect(at(merged, 'listings', 'en-us', 'platformOverrides')).toEqual(
      at(publishedApp(), 'listings', 'en-us', 'platformOverrides'),
    );
    expect(at(merged, 'listings', 'de')).toEqual(at(publishedApp(), 'listings', 'de'));
    expect(merged.visibility).toBe('Public');
    expect(merged.id).toBe('1152921504621243540');
  });

  test('never mutates its inputs, and the result shares no objects with them', () => {
    const cloned = publishedApp();
    const manifest = app({
      applicationPackages: [{ fileName: 'new.msixupload' }],
      listings: { de: { baseListing: { images: [{ fileName: 'de2.png', imageType: 'Screenshot' }] } } },
    });
    const before = JSON.stringify([cloned, manifest]);
    const merged = mergeSubmission('app', cloned, manifest, [entry('new.msixupload')]);
    expect(JSON.stringify([cloned, manifest])).toBe(before);
    (merged.pricing as Item).priceId = 'changed';
    items(merged.applicationPackages)[2]!.fileName = 'changed';
    expect(JSON.stringify([cloned, manifest])).toBe(before);
  });

  test('listed packages are added as PendingUpload and published ones marked PendingDelete', () => {
    const merged = mergeSubmission(
      'app',
      publishedApp(),
      app({ applicationPackages: [{ fileName: 'pk/new_x64.msixupload', minimumSystemRam: 'Memory2GB' }] }),
      [entry('pk/new_x64.msixupload'), entry('pk/unlisted.msix')],
    );
    expect(
      items(merged.applicationPackages).map((p) => [
        p.fileName,
        p.fileStatus,
        p.minimumSystemRam,
        p.minimumDirectXVersion,
      ]),
    ).toEqual([
      ['old_x64.msixupload', 'PendingDelete', 'None', 'None'],
      ['old_arm64.msixupload', 'PendingDelete', 'None', 'None'],
      ['pk/new_x64.msixupload', 'PendingUpload', 'Memory2GB', 'None'],
    ]);
    expect(items(merged.applicationPackages)[0]!.id).toBe('1152921504620138797');
  });

  test('with no package listed, every package file in the zip is added', () => {
    const entries = [
      'submission.json',
      'a/App_x64.MSIXUPLOAD',
      'b.appxbundle',
      'c.appx',
      'd.msix',
      'e.msixbundle',
      'f.appxupload',
      'readme.md',
      'folder.msix/',
    ].map(entry);
    const merged = mergeSubmission('app', publishedApp(), app({}), entries);
    expect(
      items(merged.applicationPackages)
        .filter((p) => p.fileStatus === 'PendingUpload')
        .map((p) => p.fileName),
    ).toEqual(['a/App_x64.MSIXUPLOAD', 'b.appxbundle', 'c.appx', 'd.msix', 'e.msixbundle', 'f.appxupload']);
  });

  test('options.packages "add" keeps the published packages', () => {
    const merged = mergeSubmission('app', publishedApp(), app({}, { packages: 'add' }), [entry('new.msix')]);
    expect(items(merged.applicationPackages).map((p) => [p.fileName, p.fileStatus])).toEqual([
      ['old_x64.msixupload', 'Uploaded'],
      ['old_arm64.msixupload', 'Uploaded'],
      ['new.msix', 'PendingUpload'],
    ]);
  });

  test('no new package at all (a listing-only update) keeps the published packages untouched', () => {
    const merged = mergeSubmission(
      'app',
      publishedApp(),
      app({ listings: { 'en-us': { baseListing: { title: 'New' } } } }),
      [entry('submission.json')],
    );
    expect(merged.applicationPackages).toEqual(publishedApp().applicationPackages);
    expect(pendingUploads('app', merged)).toEqual([]);
  });

  test('images given for a language replace that language only; other languages keep theirs', () => {
    const merged = mergeSubmission(
      'app',
      publishedApp(),
      app({
        listings: {
          'en-us': {
            baseListing: { images: [{ fileName: 'img/en2.png', imageType: 'Screenshot', description: 'Main' }] },
          },
          fr: { baseListing: { title: 'Contoso FR', images: [{ fileName: 'img/fr1.png', imageType: 'Screenshot' }] } },
        },
      }),
      [],
    );
    expect(at(merged, 'listings', 'en-us', 'baseListing', 'images')).toEqual([
      { fileName: 'en1.png', fileStatus: 'PendingDelete', id: '1', imageType: 'Screenshot' },
      { fileName: 'img/en2.png', fileStatus: 'PendingUpload', imageType: 'Screenshot', description: 'Main' },
    ]);
    expect(at(merged, 'listings', 'en-us', 'platformOverrides', 'Windows81', 'images', 0, 'fileStatus')).toBe(
      'Uploaded',
    );
    expect(at(merged, 'listings', 'de', 'baseListing', 'images')).toEqual([
      { fileName: 'de1.png', fileStatus: 'Uploaded', id: '2', imageType: 'Screenshot' },
    ]);
    expect(at(merged, 'listings', 'fr', 'baseListing')).toEqual({
      title: 'Contoso FR',
      images: [{ fileName: 'img/fr1.png', imageType: 'Screenshot', fileStatus: 'PendingUpload' }],
    });
  });

  test('an empty image list removes that language’s images; platform override images follow the same rule', () => {
    const merged = mergeSubmission(
      'app',
      publishedApp(),
      app({
        listings: {
          de: { baseListing: { images: [] } },
          'en-us': {
            platformOverrides: { Windows81: { images: [{ fileName: 'w81b.png', imageType: 'Screenshot' }] } },
          },
        },
      }),
      [],
    );
    expect(at(merged, 'listings', 'de', 'baseListing', 'images')).toEqual([
      { fileName: 'de1.png', fileStatus: 'PendingDelete', id: '2', imageType: 'Screenshot' },
    ]);
    expect(
      items(at(merged, 'listings', 'en-us', 'platformOverrides', 'Windows81', 'images')).map((i) => [
        i.fileName,
        i.fileStatus,
      ]),
    ).toEqual([
      ['w81.png', 'PendingDelete'],
      ['w81b.png', 'PendingUpload'],
    ]);
    expect(at(merged, 'listings', 'en-us', 'baseListing', 'images', 0, 'fileStatus')).toBe('Uploaded');
  });

  test('flight: flightPackages follow the package rules', () => {
    const cloned = {
      id: '1',
      flightId: FLIGHT_ID,
      flightPackages: [{ fileName: 'old.msixupload', fileStatus: 'Uploaded', id: '7' }],
      targetPublishMode: 'Immediate',
    };
    const manifest: Manifest = {
      target: { kind: 'flight', applicationId: APP_ID, flightId: FLIGHT_ID },
      submission: { notesForCertification: 'beta' },
      options: { ...DEFAULT_OPTIONS },
    };
    const merged = mergeSubmission('flight', cloned, manifest, [entry('new.msixupload')]);
    expect(merged).toEqual({
      id: '1',
      flightId: FLIGHT_ID,
      targetPublishMode: 'Immediate',
      notesForCertification: 'beta',
      flightPackages: [
        { fileName: 'old.msixupload', fileStatus: 'PendingDelete', id: '7' },
        {
          fileName: 'new.msixupload',
          fileStatus: 'PendingUpload',
          minimumDirectXVersion: 'None',
          minimumSystemRam: 'None',
        },
      ],
    });
    expect(pendingUploads('flight', merged)).toEqual(['new.msixupload']);
  });

  test('add-on: a listing icon given becomes PendingUpload; package files in the zip are ignored', () => {
    const cloned = {
      id: '3',
      keywords: ['old'],
      listings: {
        en: { title: 'Levels', description: 'More', icon: { fileName: 'old.png', fileStatus: 'Uploaded' } },
        ru: { title: 'Уровни', icon: { fileName: 'ru.png', fileStatus: 'Uploaded' } },
      },
    };
    const manifest: Manifest = {
      target: { kind: 'addon', inAppProductId: ADDON_ID },
      submission: {
        keywords: ['levels'],
        listings: {
          en: { icon: { fileName: 'icons/en.png' } },
          de: { title: 'Level', icon: { fileName: 'icons/de.png' } },
        },
      },
      options: { ...DEFAULT_OPTIONS },
    };
    const merged = mergeSubmission('addon', cloned, manifest, [entry('x.msix')]);
    expect(merged).toEqual({
      id: '3',
      keywords: ['levels'],
      listings: {
        en: { title: 'Levels', description: 'More', icon: { fileName: 'icons/en.png', fileStatus: 'PendingUpload' } },
        ru: { title: 'Уровни', icon: { fileName: 'ru.png', fileStatus: 'Uploaded' } },
        de: { title: 'Level', icon: { fileName: 'icons/de.png', fileStatus: 'PendingUpload' } },
      },
    });
    expect(pendingUploads('addon', merged)).toEqual(['icons/en.png', 'icons/de.png']);
  });

  test('a "__proto__" key from the manifest stays an ordinary field', () => {
    const submission = JSON.parse(
      '{"pricing": {"marketSpecificPricings": {"__proto__": {"polluted": true}}}}',
    ) as Record<string, unknown>;
    const merged = mergeSubmission('app', publishedApp(), app(submission), []);
    expect(({} as Item).polluted).toBeUndefined();
    expect(Object.keys(at(merged, 'pricing', 'marketSpecificPricings') as Item)).toEqual(['US', '__proto__']);
  });
});

describe('pendingUploads', () => {
  test('every PendingUpload file plus new trailers’ files, as zip paths, once each', () => {
    const merged = mergeSubmission(
      'app',
      publishedApp(),
      app({
        applicationPackages: [{ fileName: 'pk\\App.msixupload' }],
        listings: {
          'en-us': {
            baseListing: {
              images: [
                { fileName: 'img/1.png', imageType: 'Screenshot' },
                { fileName: 'img/1.png', imageType: 'Icon' },
              ],
            },
          },
        },
        trailers: [
          { id: '1158943556954955699', videoFileName: 'Trailers\\old.mp4' },
          {
            videoFileName: 'Trailers\\new.mp4',
            trailerAssets: { 'en-us': { title: 'New', imageList: [{ fileName: 'Images\\new.png' }] } },
          },
        ],
      }),
      [],
    );
    expect(pendingUploads('app', merged)).toEqual([
      'pk/App.msixupload',
      'img/1.png',
      'Trailers/new.mp4',
      'Images/new.png',
    ]);
  });
});
