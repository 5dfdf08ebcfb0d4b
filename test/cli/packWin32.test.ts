import { join } from 'node:path';
import { readLocalSubmission } from '../../cli/localZip';
import { packFolder } from '../../cli/pack';
import { exeOf, msiOf } from '../helpers/files';
import { makeFolder, pngOf, problemsOf, runCli, tempDir } from './helpers';

const PRODUCT = '3e31a9f9-84e8-4d2d-9eba-487878d02ebf';
const MSI = 'ContosoTools-1.3.0-x64.msi';
const EXE = 'ContosoToolsSetup-1.3.0-x86.exe';

function win32Folder(parent: string, name: string, extra: Record<string, string | Buffer | object> = {}): string {
  return makeFolder(parent, name, {
    'store.json': {
      target: { kind: 'win32', productId: PRODUCT },
      options: { waitFor: 'published' },
      submission: {
        packages: [
          { fileName: MSI, languages: ['en-us', 'de-de'], architectures: ['X64'], isSilentInstall: true },
          {
            fileName: EXE,
            languages: ['en-us'],
            architectures: ['X86'],
            isSilentInstall: false,
            installerParameters: '/S',
            genericDocUrl: 'https://contoso.example/setup-codes',
            packageType: 'exe',
          },
        ],
        properties: { certificationNotes: 'No account needed.' },
      },
    },
    [MSI]: msiOf('msi'),
    [EXE]: exeOf('exe'),
    'listings/en-us/description.txt': 'The Contoso toolbox.\n',
    'listings/en-us/whatsNew.txt': 'Faster start-up.\n',
    'listings/en-us/productFeatures.txt': 'Offline\n\nDark mode\n',
    'listings/en-us/searchTerms.txt': 'contoso\ntools\n',
    'listings/en-us/images/screenshots/01-main.png': pngOf(1920, 1080),
    'listings/en-us/images/screenshots/02-settings.png': pngOf(1920, 1080),
    'listings/en-us/images/storeLogos/box.png': pngOf(300, 300),
    'listings/de-de/whatsNew.txt': 'Schnellerer Start.',
    ...extra,
  });
}

describe('pack: MSI/EXE release folders', () => {
  let root: string;
  beforeAll(() => {
    root = tempDir('pack-win32');
  });

  it('packs installers, listing text and listing assets into a zip the pipeline accepts', async () => {
    const dir = win32Folder(root, 'tools');
    const out = join(root, 'tools.zip');
    const result = await packFolder(dir, out, 'tools');
    const { manifest, entries } = await readLocalSubmission(out);
    expect(manifest.target).toEqual({ kind: 'win32', productId: PRODUCT });
    expect(manifest.submission).toMatchObject({
      packages: [{ fileName: MSI }, { fileName: EXE, packageType: 'exe' }],
      listings: {
        'en-us': {
          description: 'The Contoso toolbox.',
          whatsNew: 'Faster start-up.',
          productFeatures: ['Offline', 'Dark mode'],
          searchTerms: ['contoso', 'tools'],
        },
        'de-de': { whatsNew: 'Schnellerer Start.' },
      },
      listingAssets: {
        'en-us': {
          screenshots: [
            { fileName: 'listings/en-us/images/screenshots/01-main.png' },
            { fileName: 'listings/en-us/images/screenshots/02-settings.png' },
          ],
          storeLogos: [{ fileName: 'listings/en-us/images/storeLogos/box.png' }],
        },
      },
      properties: { certificationNotes: 'No account needed.' },
    });
    expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining([MSI, EXE]));
    expect(result.folder.summary).toMatchObject({ kind: 'win32', packages: [MSI, EXE] });
  });

  it('names every problem with its file: an installer store.json does not list, an MSIX, a wrong image folder, a long field', async () => {
    const dir = win32Folder(root, 'bad', {
      'Other-2.0.msi': msiOf('other'),
      'Contoso_1.0.0.0_x64.msix': 'msix',
      'listings/en-us/images/Screenshot/a.png': pngOf(10, 10),
      'listings/en-us/whatsNew.txt': 'x'.repeat(1501),
      'listings/en-us/images/storeLogos/wide.png': pngOf(400, 300),
    });
    const problems = (await problemsOf(dir, 'bad')).join('\n');
    expect(problems).toMatch(/bad\/Other-2\.0\.msi: is not in store\.json submission\.packages/);
    expect(problems).toMatch(/bad\/Contoso_1\.0\.0\.0_x64\.msix: an MSI\/EXE app takes installers/);
    expect(problems).toMatch(
      /bad\/listings\/en-us\/images\/Screenshot: is not an image folder of an MSI\/EXE listing; did you mean "screenshots"\?/,
    );
    expect(problems).toMatch(
      /bad\/listings\/en-us\/whatsNew\.txt: is 1501 characters long; the Store takes at most 1500/,
    );
  });

  it('refuses, at pack time, an installer whose content is not its package type and a logo of the wrong shape', async () => {
    const dir = win32Folder(root, 'mismatch', {
      [MSI]: exeOf('not an msi'),
      'listings/en-us/images/storeLogos/box.png': pngOf(400, 300),
    });
    const { code, stderr } = await runCli(['pack', dir, '-o', join(root, 'mismatch.zip')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/submission\.packages\[0\]\.fileName: "ContosoTools-1\.3\.0-x64\.msi" is not an MSI/);
    expect(stderr).toMatch(
      /storeLogos\[0\]\.fileName: .* is 400x300 pixels; a store logo is 1:1 box art or 2:3 poster art/,
    );
  });

  it('validate prints the installers and images a win32 zip will take', async () => {
    const out = join(root, 'tools-v.zip');
    await packFolder(win32Folder(root, 'tools-v'), out, 'tools-v');
    const { code, stdout } = await runCli(['validate', out]);
    expect(code).toBe(0);
    expect(stdout).toMatch(`is valid: MSI/EXE app ${PRODUCT}`);
    expect(stdout).toMatch(`packages  ${MSI}, ${EXE}`);
    expect(stdout).toMatch(/files {5}3 image\(s\) and other file\(s\) to upload/);
  });
});
