import { pulledFolder } from '../../../cli/pack/pulled';

const APP = { kind: 'app', applicationId: '9NBLGGH4R315' } as const;

describe('pulledFolder: a published submission as a release folder', () => {
  it('writes each field whose file reads back as the value, and keeps the others verbatim in store.json', () => {
    const { files, inStoreJson } = pulledFolder(APP, {
      notesForCertification: 'No account needed.',
      listings: {
        'en-us': {
          baseListing: {
            title: 'Contoso',
            description: 'Line one.\r\nLine two.',
            keywords: ['maps', 'two\nlines'],
            features: ['Dark mode', 'Offline'],
            releaseNotes: '',
            shortTitle: '  padded  ',
            privacyPolicy: 'https://contoso.example/privacy',
          },
        },
      },
    });
    expect(files.get('listings/en-us/title.txt')).toBe('Contoso\n');
    expect(files.get('listings/en-us/features.txt')).toBe('Dark mode\nOffline\n');
    // Empty fields stay as published; fields the folder has no file for are not written anywhere.
    expect([...files.keys()].sort()).toEqual(['listings/en-us/features.txt', 'listings/en-us/title.txt', 'store.json']);
    expect(inStoreJson).toEqual(['en-us.description', 'en-us.shortTitle', 'en-us.keywords']);
    expect(JSON.parse(files.get('store.json')!)).toEqual({
      target: APP,
      listingOnly: true,
      submission: {
        notesForCertification: 'No account needed.',
        listings: {
          'en-us': {
            baseListing: {
              description: 'Line one.\r\nLine two.',
              keywords: ['maps', 'two\nlines'],
              shortTitle: '  padded  ',
            },
          },
        },
      },
    });
  });

  it('lists images numbered per type in the Store order, captions beside, none of those being deleted', () => {
    const { files, images } = pulledFolder(APP, {
      listings: {
        'de-de': {
          baseListing: {
            images: [
              { fileName: 'Images/a b.png', imageType: 'Screenshot', description: 'Eins', fileStatus: 'Uploaded' },
              { fileName: 'Images/logo.png', imageType: 'StoreLogoSquare', fileStatus: 'Uploaded' },
              { fileName: 'x/shot.png', imageType: 'Screenshot', description: ' padded ', fileStatus: 'Uploaded' },
              { fileName: 'old.png', imageType: 'Screenshot', fileStatus: 'PendingDelete' },
            ],
          },
        },
      },
    });
    expect(images).toEqual([
      {
        language: 'de-de',
        imageType: 'Screenshot',
        fileName: 'listings/de-de/images/Screenshot/01-a-b.png',
        published: 'Images/a b.png',
      },
      {
        language: 'de-de',
        imageType: 'StoreLogoSquare',
        fileName: 'listings/de-de/images/StoreLogoSquare/01-logo.png',
        published: 'Images/logo.png',
      },
      {
        language: 'de-de',
        imageType: 'Screenshot',
        fileName: 'listings/de-de/images/Screenshot/02-shot.png',
        published: 'x/shot.png',
        description: ' padded ',
      },
    ]);
    expect(files.get('listings/de-de/images/Screenshot/01-a-b.txt')).toBe('Eins\n');
    expect(JSON.parse(files.get('images.json')!)).toMatchObject({ images });
  });

  it('an add-on gets no listingOnly; a flight only its target', () => {
    const addon = pulledFolder({ kind: 'addon', inAppProductId: '9NBLGGH4TNNR' }, { listings: {} });
    expect(JSON.parse(addon.files.get('store.json')!)).toEqual({
      target: { kind: 'addon', inAppProductId: '9NBLGGH4TNNR' },
    });
    const flight = pulledFolder({ kind: 'flight', applicationId: '9NBLGGH4R315', flightId: 'f' }, {});
    expect([...flight.files.keys()]).toEqual(['store.json']);
  });
});
