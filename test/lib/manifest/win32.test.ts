import { randomBytes } from 'node:crypto';
import { InputError, type InputProblem } from '../../../lib/errors';
import { readSubmission, validateManifest, validateOptions } from '../../../lib/manifest';
import { packageTypeOf, win32Uploads } from '../../../lib/win32/manifest';
import { openZip, type RangeReader, type ZipEntryInfo } from '../../../lib/zip/blobZip';
import { exeOf, msiOf, pngOf } from '../../helpers/files';
import { rawZip } from '../../helpers/zips';

const PRODUCT = '3e31a9f9-84e8-4d2d-9eba-487878d02ebf';
const entry = (name: string): ZipEntryInfo => ({
  name,
  directory: name.endsWith('/'),
  compressedSize: 9,
  uncompressedSize: 9,
});
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const ENTRIES = [
  entry('submission.json'),
  entry('installers/Contoso-1.3.0-x64.msi'),
  entry('installers/ContosoSetup-1.3.0-x86.exe'),
  entry('images/en-us/main.png'),
  entry('images/logo.png'),
];

function manifest(submission: Record<string, unknown> = {}, options?: Record<string, unknown>): unknown {
  return { target: { kind: 'win32', productId: PRODUCT }, submission, ...(options ? { options } : {}) };
}

const MSI = {
  fileName: 'installers/Contoso-1.3.0-x64.msi',
  languages: ['en-us'],
  architectures: ['X64'],
  isSilentInstall: true,
};
const EXE = {
  fileName: 'installers/ContosoSetup-1.3.0-x86.exe',
  languages: ['en-us', 'de-de'],
  architectures: ['X86'],
  isSilentInstall: false,
  installerParameters: '/S',
  genericDocUrl: 'https://contoso.example/setup-codes',
  packageType: 'exe',
};

function problemsOf(bytes: Buffer, entries = ENTRIES, overrides?: unknown): InputProblem[] {
  try {
    validateManifest(bytes, entries, overrides);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).problems;
  }
  throw new Error('expected an InputError');
}

function lines(problems: InputProblem[]): string {
  return problems.map((p) => `${p.file} ${p.field ?? ''}: ${p.message}`).join('\n');
}

describe('win32 manifests', () => {
  test('a complete MSI and EXE submission validates, and says what it takes from the zip', () => {
    const m = validateManifest(
      json(
        manifest(
          {
            packages: [MSI, EXE],
            listings: {
              'en-us': { whatsNew: 'Faster.', productFeatures: ['Offline'] },
              'fr-fr': { description: 'Les outils.' },
            },
            listingAssets: {
              'en-us': {
                screenshots: [{ fileName: 'images/en-us/main.png' }],
                storeLogos: [{ fileName: 'images/logo.png' }],
              },
            },
            properties: {
              certificationNotes: 'No account needed.',
              category: 'DeveloperTools',
              subcategory: 'Utilities',
            },
            availability: { markets: ['US', 'DE'], pricing: 'FREE' },
          },
          { waitFor: 'published', ongoingSubmission: 'fail' },
        ),
      ),
      ENTRIES,
    );
    expect(m.target).toEqual({ kind: 'win32', productId: PRODUCT });
    expect(m.options).toMatchObject({ waitFor: 'published', ongoingSubmission: 'fail', packages: 'replace' });
    expect(win32Uploads(m)).toEqual({
      installers: ['installers/Contoso-1.3.0-x64.msi', 'installers/ContosoSetup-1.3.0-x86.exe'],
      images: ['images/en-us/main.png', 'images/logo.png'],
    });
    expect(packageTypeOf(MSI)).toBe('msi');
    expect(packageTypeOf({ fileName: 'a.EXE' })).toBe('exe');
  });

  test('a listing-only update needs no package, and a zip without installers', () => {
    const m = validateManifest(json(manifest({ listings: { 'en-us': { whatsNew: 'Typos fixed.' } } })), [
      entry('submission.json'),
    ]);
    expect(win32Uploads(m).installers).toEqual([]);
  });

  test('names the product id, package fields and listing limits the schema refuses', () => {
    const bad = {
      target: { kind: 'win32', productId: '9NBLGGH4R315' },
      submission: {
        packages: [
          { ...MSI, architectures: ['X64', 'X86'], packageUrl: 'https://example.com/a.msi' },
          { ...EXE, installerParameters: undefined, genericDocUrl: undefined },
        ],
        listings: { 'en-us': { whatsNew: 'x'.repeat(1501), language: 'en-us' } },
        listingAssets: { 'en-us': { screenshots: [{ fileName: 'images/en-us/main.jpg' }] } },
        properties: { category: 'Gadgets' },
        pricing: 'FREE',
      },
    };
    const text = lines(problemsOf(json(bad)));
    expect(text).toMatch(/target\.productId: must be a GUID/);
    expect(text).toMatch(/submission\.packages\[0\]\.architectures: has 2 items; at most 1/);
    expect(text).toMatch(/submission\.packages\[0\]\.packageUrl: is set by the submitter/);
    expect(text).toMatch(/submission\.packages\[1\]\.installerParameters: is required/);
    expect(text).toMatch(/submission\.packages\[1\]\.genericDocUrl: is required/);
    expect(text).toMatch(/submission\.listings\.en-us\.whatsNew: .*1500/);
    expect(text).toMatch(/submission\.listings\.en-us\.language: is the key of this listing/);
    expect(text).toMatch(/submission\.listingAssets\.en-us\.screenshots\[0\]\.fileName: must be a \.png file/);
    expect(text).toMatch(/submission\.properties\.category: must be one of/);
    expect(text).toMatch(/submission\.pricing: is not a field of a win32 submission/);
  });

  test('checks installers against the zip: listed, in it, of the type they say, each once', () => {
    const text = lines(
      problemsOf(
        json(
          manifest({
            packages: [
              { ...MSI, packageType: 'exe', genericDocUrl: 'https://contoso.example/c' },
              { ...MSI },
              { ...MSI, fileName: 'installers/missing.msi' },
              { ...MSI, fileName: 'images/logo.png' },
            ],
          }),
        ),
      ),
    );
    expect(text).toMatch(
      /packages\[0\]\.packageType: is "exe" but .* is an msi file; the Store would launch it the wrong way/,
    );
    expect(text).toMatch(/packages\[1\]\.fileName: .* is listed twice/);
    expect(text).toMatch(/packages\[2\]\.fileName: "installers\/missing\.msi" is not in the zip/);
    expect(text).toMatch(/packages\[3\]\.fileName: "images\/logo\.png" is not an installer/);
    expect(text).toMatch(
      /submission\.packages: does not list "installers\/ContosoSetup-1\.3\.0-x86\.exe", which is in the zip/,
    );
  });

  test('an installer in the zip without submission.packages is a mistake, not a listing-only update', () => {
    const text = lines(problemsOf(json(manifest({ listings: { 'en-us': { whatsNew: 'x' } } }))));
    expect(text).toMatch(
      /submission\.packages: is not given, but the zip holds the installer "installers\/Contoso-1\.3\.0-x64\.msi"/,
    );
  });

  test('checks language codes against the Store list, with a suggestion', () => {
    const text = lines(
      problemsOf(
        json(
          manifest({
            packages: [{ ...MSI, languages: ['en-uk'] }, EXE],
            listings: { 'xx-yy': { whatsNew: 'x' } },
            listingsToRemove: ['de-de', 'en-us'],
            listingAssets: { 'en-us': { storeLogos: [{ fileName: 'images/logo.png' }] } },
          }),
        ),
      ),
    );
    expect(text).toMatch(
      /packages\[0\]\.languages\[0\]: "en-uk" is not a language the Store takes; did you mean "en"\?/,
    );
    expect(text).toMatch(/submission\.listings\.xx-yy: "xx-yy" is not a language the Store takes/);
    expect(text).toMatch(/listingsToRemove\[1\]: removes "en-us", which submission\.listingAssets also gives/);
  });

  test('counts the unique words of the search terms', () => {
    const terms = ['a b c d', 'e f g h', 'i j k l', 'm n o p', 'q r s t', 'u v w x', 'y z'];
    const text = lines(
      problemsOf(json(manifest({ packages: [MSI, EXE], listings: { 'en-us': { searchTerms: terms } } }))),
    );
    expect(text).toMatch(/searchTerms: has 26 different words; the Store takes at most 21/);
  });

  test('refuses options that mean nothing for the kind, in the manifest and in the start request', () => {
    const text = lines(
      problemsOf(
        json(manifest({ packages: [MSI, EXE] }, { pendingSubmission: 'fail', existingRollout: 'halt' })),
        ENTRIES,
        {
          ongoingSubmission: 'nope',
        },
      ),
    );
    expect(text).toMatch(/submission\.json options\.pendingSubmission: does not apply to a win32 target/);
    expect(text).toMatch(/submission\.json options\.existingRollout: does not apply to a win32 target/);
    expect(text).toMatch(/start request options\.ongoingSubmission: must be one of "wait", "fail"/);
    const app = { target: { kind: 'app', applicationId: '9NBLGGH4R315' }, options: { ongoingSubmission: 'wait' } };
    expect(lines(problemsOf(json(app), [entry('submission.json'), entry('a.msix')]))).toMatch(
      /options\.ongoingSubmission: applies to win32 targets only/,
    );
    expect(validateOptions({ ongoingSubmission: 'fail' })).toEqual({ ongoingSubmission: 'fail' });
  });
});

/** A zip in memory, read through the pipeline's own reader. */
class BufferReader implements RangeReader {
  readonly stats = { requests: 0, bytes: 0 };
  constructor(private readonly data: Buffer) {}
  get size(): number {
    return this.data.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    this.stats.requests++;
    this.stats.bytes += length;
    return this.data.subarray(offset, offset + length);
  }
}

async function readZip(zip: Buffer): Promise<unknown> {
  return readSubmission(await openZip(new BufferReader(zip), 'test.zip'));
}

describe('win32 files, by their first bytes', () => {
  const pkg = (fileName: string, extra = {}) => ({ ...MSI, fileName, ...extra });
  const exe = (fileName: string) => pkg(fileName, { packageType: 'exe', genericDocUrl: 'https://contoso.example/c' });

  test('accepts an MSI, a deflated EXE and PNGs of the right shapes, reading only their heads', async () => {
    // Random bytes: deflate cannot shrink them, so reading the head cannot mean reading it all.
    const big = Buffer.concat([Buffer.from('MZ'), randomBytes(3 * 1024 * 1024)]);
    const zip = rawZip([
      {
        name: 'submission.json',
        data: JSON.stringify(
          manifest({
            packages: [pkg('a.msi'), exe('b.exe')],
            listingAssets: {
              'en-us': {
                screenshots: [{ fileName: 's.png' }],
                storeLogos: [{ fileName: 'l.png' }, { fileName: 'p.png' }],
              },
            },
          }),
        ),
        deflate: true,
      },
      { name: 'a.msi', data: msiOf('a') },
      { name: 'b.exe', data: big, deflate: true },
      { name: 's.png', data: pngOf(1920, 1080) },
      { name: 'l.png', data: pngOf(300, 300) },
      { name: 'p.png', data: pngOf(200, 300) },
    ]);
    const reader = new BufferReader(zip);
    await readSubmission(await openZip(reader, 'test.zip'));
    expect(reader.stats.bytes).toBeLessThan(zip.length);
  });

  test('refuses an installer that is not what its type says, an empty one, a non-PNG and a logo of another shape', async () => {
    const zip = rawZip([
      {
        name: 'submission.json',
        data: JSON.stringify(
          manifest({
            packages: [pkg('a.msi'), exe('b.exe'), pkg('c.msi')],
            listingAssets: { 'en-us': { screenshots: [{ fileName: 's.png' }], storeLogos: [{ fileName: 'l.png' }] } },
          }),
        ),
      },
      { name: 'a.msi', data: exeOf('oops'), deflate: true },
      { name: 'b.exe', data: msiOf('oops') },
      { name: 'c.msi', data: Buffer.alloc(0) },
      { name: 's.png', data: Buffer.from('GIF89a, not a PNG at all') },
      { name: 'l.png', data: pngOf(400, 300) },
    ]);
    const err = await readZip(zip).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    const text = lines((err as InputError).problems);
    expect(text).toMatch(
      /packages\[0\]\.fileName: "a\.msi" is not an MSI .*; it is an EXE\), but its package type is msi/,
    );
    expect(text).toMatch(/packages\[1\]\.fileName: "b\.exe" is not a Windows executable .*; it is an MSI\)/);
    expect(text).toMatch(/packages\[2\]\.fileName: "c\.msi" is empty/);
    expect(text).toMatch(/screenshots\[0\]\.fileName: "s\.png" is not a PNG image/);
    expect(text).toMatch(
      /storeLogos\[0\]\.fileName: "l\.png" is 400x300 pixels; a store logo is 1:1 box art or 2:3 poster art/,
    );
  });
});
