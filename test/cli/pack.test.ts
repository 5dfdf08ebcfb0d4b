import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_NAME } from '../../lib/manifest';
import { readLocalSubmission } from '../../cli/localZip';
import { packFolder, readReleaseFolder } from '../../cli/pack';
import { packageFor } from '../helpers/zips';
import { fakePackage, makeFolder, PNG, pngOf, problemsOf, runCli, tempDir } from './helpers';

const APP = '9NBLGGH4R315';
const PKG = 'Contoso.Demo_1.2.3.0_x64.msixupload';

function appFolder(parent: string, name = 'app', extra: Record<string, string | Buffer | object> = {}): string {
  return makeFolder(parent, name, {
    'store.json': { target: { kind: 'app', applicationId: APP }, options: { waitFor: 'published' } },
    [PKG]: packageFor(PKG),
    'Contoso.Demo_1.2.3.0_arm64.msixupload': packageFor('Contoso.Demo_1.2.3.0_arm64.msixupload'),
    'listings/en-us/title.txt': 'Contoso Demo\n',
    'listings/en-us/description.txt': 'A demo app.\r\nIt does things.\r\n',
    'listings/en-us/releaseNotes.txt': 'Faster start-up.\n',
    'listings/en-us/features.txt': 'Dark mode\n\nOffline maps\n',
    'listings/en-us/keywords.txt': 'demo\ncontoso maps\n',
    'listings/en-us/images/Screenshot/02-settings.png': PNG,
    'listings/en-us/images/Screenshot/10-map.png': PNG,
    'listings/en-us/images/Screenshot/02-settings.txt': 'The settings page',
    'listings/en-us/images/StoreLogoSquare/logo.png': PNG,
    'listings/de-de/releaseNotes.txt': 'Schnellerer Start.',
    ...extra,
  });
}

describe('pack: folders that make a zip', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir('pack');
  });

  it('an app folder: packages listed from the root, listing text per file, images by type in name order with captions', async () => {
    const dir = appFolder(root);
    const out = join(root, 'app.zip');
    const result = await packFolder(dir, out, 'app');
    const { manifest, entries } = await readLocalSubmission(out);

    expect(manifest.target).toEqual({ kind: 'app', applicationId: APP });
    expect(manifest.options.waitFor).toBe('published');
    expect(manifest.submission).toEqual({
      applicationPackages: [{ fileName: 'Contoso.Demo_1.2.3.0_arm64.msixupload' }, { fileName: PKG }],
      listings: {
        'de-de': { baseListing: { releaseNotes: 'Schnellerer Start.' } },
        'en-us': {
          baseListing: {
            title: 'Contoso Demo',
            description: 'A demo app.\nIt does things.',
            releaseNotes: 'Faster start-up.',
            features: ['Dark mode', 'Offline maps'],
            keywords: ['demo', 'contoso maps'],
            images: [
              {
                fileName: 'listings/en-us/images/Screenshot/02-settings.png',
                imageType: 'Screenshot',
                description: 'The settings page',
              },
              { fileName: 'listings/en-us/images/Screenshot/10-map.png', imageType: 'Screenshot' },
              { fileName: 'listings/en-us/images/StoreLogoSquare/logo.png', imageType: 'StoreLogoSquare' },
            ],
          },
        },
      },
    });
    // Text files live in submission.json, not in the zip; the manifest comes first.
    expect(entries.map((e) => e.name)).toEqual([
      MANIFEST_NAME,
      'Contoso.Demo_1.2.3.0_arm64.msixupload',
      PKG,
      'listings/en-us/images/Screenshot/02-settings.png',
      'listings/en-us/images/Screenshot/10-map.png',
      'listings/en-us/images/StoreLogoSquare/logo.png',
    ]);
    expect(result.folder.summary.packages).toHaveLength(2);
  });

  it('a flight named by friendly name: packages become flightPackages', async () => {
    const target = {
      kind: 'flight',
      applicationId: APP,
      flight: { friendlyName: 'Insiders', groupIds: ['1152921504606962205'] },
    };
    const dir = makeFolder(root, 'flight', { 'store.json': { target }, [PKG]: packageFor(PKG) });
    const { manifest } = (await packFolder(dir, join(root, 'flight.zip'))).checked;
    expect(manifest.target).toEqual(target);
    expect(manifest.submission).toEqual({ flightPackages: [{ fileName: PKG }] });
  });

  it('an add-on named by productId: title, description and the 300x300 icon; keywords and pricing from store.json', async () => {
    const dir = makeFolder(root, 'addon', {
      'store.json': {
        target: { kind: 'addon', addon: { productId: 'extra-levels', productType: 'Durable', applicationId: APP } },
        submission: { keywords: ['levels'], pricing: { priceId: 'Tier2' } },
      },
      'listings/en-us/title.txt': 'Extra levels',
      'listings/en-us/description.txt': 'Ten more levels.',
      'listings/en-us/icon.png': pngOf(300, 300),
    });
    const { manifest, entries } = (await packFolder(dir, join(root, 'addon.zip'))).checked;
    expect(manifest.submission).toEqual({
      keywords: ['levels'],
      pricing: { priceId: 'Tier2' },
      listings: {
        'en-us': {
          title: 'Extra levels',
          description: 'Ten more levels.',
          icon: { fileName: 'listings/en-us/icon.png' },
        },
      },
    });
    expect(entries.map((e) => e.name)).toEqual([MANIFEST_NAME, 'listings/en-us/icon.png']);
  });

  it('store.json adds fields the folder cannot express, and files it names (a trailer) go into the zip', async () => {
    const dir = appFolder(root, 'with-trailer', {
      'store.json': {
        target: { kind: 'app', applicationId: APP },
        submission: {
          notesForCertification: 'Sign in with the demo account.',
          listings: { 'en-us': { platformOverrides: { Windows81: { description: 'For Windows 8.1' } } } },
          trailers: [
            {
              videoFileName: 'trailers/intro.mp4',
              trailerAssets: { 'en-us': { title: 'Intro', imageList: [{ fileName: 'trailers/intro.png' }] } },
            },
          ],
        },
      },
      'trailers/intro.mp4': fakePackage(1000),
      'trailers/intro.png': PNG,
    });
    const { manifest, entries } = (await packFolder(dir, join(root, 'with-trailer.zip'))).checked;
    expect(manifest.submission.notesForCertification).toBe('Sign in with the demo account.');
    expect(manifest.submission.listings).toMatchObject({
      'en-us': {
        baseListing: { title: 'Contoso Demo' },
        platformOverrides: { Windows81: { description: 'For Windows 8.1' } },
      },
    });
    expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining(['trailers/intro.mp4', 'trailers/intro.png']));
  });

  it('an update of the listings only, without packages, when store.json says so', async () => {
    const dir = makeFolder(root, 'listing-only', {
      'store.json': { target: { kind: 'app', applicationId: APP }, listingOnly: true },
      'listings/en-us/releaseNotes.txt': 'New screenshots.',
    });
    const { manifest } = (await packFolder(dir, join(root, 'listing-only.zip'))).checked;
    expect(manifest.submission).toEqual({
      listings: { 'en-us': { baseListing: { releaseNotes: 'New screenshots.' } } },
    });
  });

  it("release notes per version: releaseNotes/<version>.txt by the packages' version, else releaseNotes.txt", async () => {
    const notes = {
      'listings/en-us/releaseNotes/1.2.3.0.txt': 'Notes of 1.2.3.\n',
      'listings/en-us/releaseNotes/1.1.txt': 'Notes of 1.1.\n',
      'listings/de-de/releaseNotes/1.2.3.txt': 'Hinweise zu 1.2.3.\n',
    };
    const notesOf = (manifest: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(
        Object.entries(
          (manifest.submission as { listings: Record<string, { baseListing: { releaseNotes?: string } }> }).listings,
        ).map(([lang, l]) => [lang, l.baseListing.releaseNotes]),
      );
    // The packages are 1.2.3.0: each language takes its notes of that version (1.2.3 is 1.2.3.0).
    const chosen = await readReleaseFolder(appFolder(root, 'notes-1.2.3', notes), 'r');
    expect(notesOf(chosen.manifest)).toEqual({ 'en-us': 'Notes of 1.2.3.', 'de-de': 'Hinweise zu 1.2.3.' });
    expect(chosen.summary.releaseNotes).toEqual({
      version: '1.2.3.0',
      files: ['listings/de-de/releaseNotes/1.2.3.txt', 'listings/en-us/releaseNotes/1.2.3.0.txt'],
    });

    // Packages of 1.4.0.0, for which no file is: releaseNotes.txt, where there is one.
    const PKG14 = 'Contoso.Demo_1.4.0.0_x64.msixupload';
    const fallback = await readReleaseFolder(
      makeFolder(root, 'notes-1.4', {
        'store.json': { target: { kind: 'app', applicationId: APP } },
        [PKG14]: packageFor(PKG14),
        'listings/en-us/releaseNotes.txt': 'Any version.\n',
        'listings/en-us/title.txt': 'Contoso Demo\n',
        'listings/de-de/title.txt': 'Contoso Demo\n',
        ...notes,
      }),
      'r',
    );
    expect(notesOf(fallback.manifest)).toEqual({ 'en-us': 'Any version.', 'de-de': undefined });

    // A file of releaseNotes/ not named after a version, and two files for one version.
    expect(
      await problemsOf(
        appFolder(root, 'notes-bad', {
          'listings/en-us/releaseNotes/latest.txt': 'x',
          'listings/de-de/releaseNotes/1.2.3.txt': 'a',
          'listings/de-de/releaseNotes/1.2.3.0.txt': 'b',
        }),
        'r',
      ),
    ).toEqual([
      'r/listings/de-de/releaseNotes: has listings/de-de/releaseNotes/1.2.3.0.txt and listings/de-de/releaseNotes/1.2.3.txt, both for version 1.2.3.0; keep one',
      'r/listings/en-us/releaseNotes/latest.txt: is not release notes of a version: name each file after the package version it is for, e.g. listings/en-us/releaseNotes/1.3.0.0.txt (releaseNotes.txt beside the folder is for any other version)',
    ]);
  });

  it('a release note of exactly 1500 characters is accepted (the Store limit)', async () => {
    const dir = appFolder(root, 'limit', { 'listings/en-us/releaseNotes.txt': 'n'.repeat(1500) });
    await expect(packFolder(dir, join(root, 'limit.zip'))).resolves.toBeDefined();
  });

  it('the CLI prints what it packed and exits 0; the zip then validates with exit 0', async () => {
    const dir = appFolder(root, 'cli-app');
    const out = join(root, 'cli-app.zip');
    const packed = await runCli(['pack', dir, '-o', out]);
    expect(packed).toMatchObject({ code: 0, stderr: '' });
    expect(packed.stdout).toContain(`app ${APP}`);
    expect(packed.stdout).toContain('en-us (description, features, keywords, releaseNotes, title, 3 images)');
    expect(packed.stdout).toContain(`identity  ${PKG}: Contoso.Demo, CN=Contoso Ltd., 1.2.3.0 x64`);
    expect(packed.stdout).toMatch(/not checked offline: .*version is higher than the published package/);
    const validated = await runCli(['validate', out]);
    expect(validated.code).toBe(0);
    expect(validated.stdout).toMatch(/is valid: app 9NBLGGH4R315/);
  });

  it('a package of another identity in the folder: exit 2 naming file, field and both names, and no zip', async () => {
    const other = 'Fabrikam.Tool_1.2.3.0_x86.msixupload';
    const dir = appFolder(root, 'mixed', { [other]: packageFor(other, { name: 'Fabrikam.Tool' }) });
    const out = join(root, 'mixed.zip');
    const packed = await runCli(['pack', dir, '-o', out]);
    expect(packed.code).toBe(2);
    expect(packed.stderr).toContain(
      `${other} AppxManifest.xml Identity/@Name: is "Fabrikam.Tool", but Contoso.Demo_1.2.3.0_arm64.msixupload has "Contoso.Demo"`,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('pack: folders with a mistake', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir('pack-bad');
  });

  it('no store.json', async () => {
    const dir = makeFolder(root, 'no-config', { [PKG]: packageFor(PKG), 'Store.JSON.txt': '{}' });
    expect(await problemsOf(dir, 'no-config')).toEqual([
      expect.stringMatching(
        /^no-config\/store\.json: is missing: every release folder has a store\.json naming the target/,
      ),
      'no-config/Store.JSON.txt: is not part of a release folder: package files (.msix, .msixbundle, .msixupload, .appx, .appxbundle, .appxupload) go at the root, listings under listings/<language>/, settings in store.json; other files only when store.json names them',
    ]);
  });

  it('store.json that is not valid JSON says where', async () => {
    const dir = makeFolder(root, 'bad-json', {
      'store.json': '{\n  "target": {"kind": "app",}\n}',
      [PKG]: packageFor(PKG),
    });
    expect(await problemsOf(dir, 'bad-json')).toEqual([
      'bad-json/store.json: invalid JSON at line 2, column 28: trailing comma before "}"',
    ]);
  });

  it('an unknown image type folder, with the type it probably means', async () => {
    const dir = appFolder(root, 'image-type', {
      'listings/en-us/images/screenshots/01.png': PNG,
      'listings/en-us/images/Banner/01.png': PNG,
    });
    const problems = await problemsOf(dir, 'image-type');
    expect(problems).toEqual([
      expect.stringMatching(
        /^image-type\/listings\/en-us\/images\/Banner: is not an image type; the types are Screenshot, MobileScreenshot, /,
      ),
      'image-type/listings/en-us/images/screenshots: is not an image type; did you mean "Screenshot"?',
    ]);
  });

  it('a listing file too long, a list with too many lines or too long a line, too many keyword words', async () => {
    const dir = appFolder(root, 'too-long', {
      'listings/en-us/releaseNotes.txt': 'n'.repeat(1501),
      'listings/en-us/features.txt': Array.from({ length: 21 }, (_, i) => `feature ${i}`).join('\n'),
      'listings/en-us/keywords.txt': `short\n${'k'.repeat(41)}\none two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty`,
      'listings/de-de/title.txt': '   \n',
    });
    expect(await problemsOf(dir, 'too-long')).toEqual([
      'too-long/listings/de-de/title.txt: is empty; write the title, or delete the file to keep the published one',
      'too-long/listings/en-us/features.txt: has 21 features (one per line); the Store takes at most 20',
      'too-long/listings/en-us/keywords.txt: line 2 is 41 characters long; the Store takes at most 40 per keyword',
      'too-long/listings/en-us/keywords.txt: line 3 is 131 characters long; the Store takes at most 40 per keyword',
      'too-long/listings/en-us/keywords.txt: has 22 words in all; the Store takes at most 21 across all keywords',
      'too-long/listings/en-us/releaseNotes.txt: is 1501 characters long; the Store takes at most 1500',
    ]);
  });

  it('an app without packages, and an add-on with one', async () => {
    const app = makeFolder(root, 'no-packages', {
      'store.json': { target: { kind: 'app', applicationId: APP } },
      'listings/en-us/releaseNotes.txt': 'x',
    });
    expect(await problemsOf(app, 'no-packages')).toEqual([
      expect.stringMatching(
        /^no-packages\/: has no package: put the app's package files .* set "listingOnly": true in store\.json$/,
      ),
    ]);
    const flight = makeFolder(root, 'flight-no-packages', {
      'store.json': {
        target: { kind: 'flight', applicationId: APP, flightId: '7bfc11d5-f710-47c5-8a98-e04bb5aad310' },
      },
      'listings/en-us/releaseNotes.txt': 'x',
    });
    expect(await problemsOf(flight, 'flight')).toEqual([
      expect.stringMatching(/^flight\/: has no package: a flight submission needs at least one package file/),
      'flight/listings: flights have no Store listings; remove the folder, or set target.kind in store.json',
    ]);
    const addon = makeFolder(root, 'addon-package', {
      'store.json': { target: { kind: 'addon', inAppProductId: '9NBLGGH4TNNR' } },
      [PKG]: packageFor(PKG),
      'listings/en-us/icon.png': pngOf(64, 64),
    });
    expect(await problemsOf(addon, 'addon')).toEqual([
      `addon/${PKG}: add-ons have no packages; remove it, or set target.kind in store.json`,
      'addon/listings/en-us/icon.png: is 64x64 pixels; the Store takes exactly 300x300',
    ]);
  });

  it('misnamed listing files and stray files, each with a hint', async () => {
    const dir = appFolder(root, 'stray', {
      'listings/en-us/release-notes.txt': 'x',
      'listings/en-us/Description.md': 'x',
      'listings/en-us/images/Screenshot/03.jpg': 'jpeg bytes',
      'listings/en-us/images/Screenshot/04.png': 'not a png at all',
      'listings/en-us/images/Screenshot/05.txt': 'caption of nothing',
      'listings/readme.txt': 'x',
      Listing: 'a file named like the folder',
      'notes.txt': 'x',
      '.DS_Store': 'ignored',
    });
    expect(await problemsOf(dir, 'stray')).toEqual([
      'stray/Listing: is not part of a release folder: package files (.msix, .msixbundle, .msixupload, .appx, .appxbundle, .appxupload) go at the root, listings under listings/<language>/, settings in store.json; other files only when store.json names them',
      'stray/notes.txt: is not part of a release folder: package files (.msix, .msixbundle, .msixupload, .appx, .appxbundle, .appxupload) go at the root, listings under listings/<language>/, settings in store.json; other files only when store.json names them',
      'stray/listings/en-us/Description.md: is not a listing file; did you mean "description.txt"?',
      'stray/listings/en-us/images/Screenshot/03.jpg: is not a PNG image; the Store takes .png files (a .txt of the same name is the caption)',
      'stray/listings/en-us/images/Screenshot/05.txt: is a caption without its image: name it like the image, e.g. 05.png',
      'stray/listings/en-us/images/Screenshot/04.png: is not a PNG image (its first bytes are not a PNG signature); the Store takes PNG files',
      'stray/listings/en-us/release-notes.txt: is not a listing file; did you mean "releaseNotes.txt"?',
      'stray/listings/readme.txt: is not a language folder: listings go in listings/<language>/, e.g. listings/en-us/',
    ]);
  });

  it("the pipeline's own manifest validation, traced back to store.json and to the folder's files", async () => {
    const dir = appFolder(root, 'schema', {
      'store.json': {
        target: { kind: 'app', applicationId: '9nblggh4r315' },
        options: { waitfor: 'published' },
        submission: { status: 'Published', listings: { 'de-de': { baseListing: { releaseNotes: 'twice' } } } },
        listingonly: true,
      },
      'listings/en_US!/title.txt': 'x',
    });
    expect(await problemsOf(dir, 'schema')).toEqual([
      'schema/store.json listingonly: is not a key of store.json; did you mean "listingOnly"?',
      'schema/store.json submission.listings.de-de.baseListing.releaseNotes: is also given by schema/listings/de-de/releaseNotes.txt; keep one',
      'schema/listings/en_US! submission.listings["en_US!"]: is not a language code; keys here are language codes such as en-us or de',
      'schema/store.json submission.status: is read-only: the Store sets it; leave it out of submission.json',
      'schema/store.json target.applicationId: must be a 12-character Store ID of digits and capital letters, such as 9NBLGGH4R315 (got "9nblggh4r315")',
      'schema/store.json options.waitfor: is not a known option; did you mean "waitFor"?',
    ]);
  });

  it('the CLI lists every problem, exits 2 and writes no zip', async () => {
    const dir = appFolder(root, 'cli-bad', {
      'listings/en-us/releaseNotes.txt': 'n'.repeat(2000),
      'listings/en-us/images/Logo/1.png': PNG,
    });
    const out = join(root, 'cli-bad.zip');
    const result = await runCli(['pack', dir, '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('cannot be packed (2 problems):');
    expect(result.stderr).toContain('listings/en-us/images/Logo: is not an image type');
    expect(result.stderr).toContain(
      'listings/en-us/releaseNotes.txt: is 2000 characters long; the Store takes at most 1500',
    );
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).filter((f) => f.includes('cli-bad.zip'))).toEqual([]);

    const json = await runCli(['pack', dir, '-o', out, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'InvalidFolder', problems: expect.any(Array) });
  });

  it('refuses to write the zip inside the folder it packs', async () => {
    const dir = appFolder(root, 'self');
    const result = await runCli(['pack', dir, '-o', join(dir, 'out.zip')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/would be inside the release folder/);
  });
});
