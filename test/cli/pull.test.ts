/**
 * `store-submitter pull` against the sandbox: the demo app, flight and add-on pulled through
 * GET /api/products/{kind}/{id}/published, packed unchanged, and submitted: a dry run passes,
 * and a real submission of the unchanged folder leaves the product's published submission as
 * it was (pulled again, the folder is byte for byte the same).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SEED_IDS } from '../../sandbox/emulator';
import type { StatusDocument } from '../../lib/statusDocument';
import { functionsApp, startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { storeGet } from '../e2e/support';
import { eventually } from '../helpers/eventually';
import { ensureCliBuilt, PNG, runCliProcess, tempDir, type CliResult } from './helpers';

type Json = Record<string, unknown>;

let sandbox: TestSandbox;
let root: string;

beforeAll(async () => {
  ensureCliBuilt();
  sandbox = await startTestSandbox();
  root = tempDir('pull');
});
afterAll(async () => {
  await sandbox?.stop();
});

/** The CLI with the sandbox's storage and Functions app (pack takes neither). */
function cli(args: string[]): Promise<CliResult> {
  const service = args[0] === 'pack' ? [] : functionsApp(sandbox);
  return runCliProcess([...args, ...service], {
    SUBMISSIONS_STORAGE: sandbox.azurite.connectionString,
    SUBMISSIONS_CONTAINER: sandbox.submissions.containerName,
  });
}

/** Every file of a folder, relative path → content. */
function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else out[relative(dir, path).split('\\').join('/')] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return out;
}

/**
 * A submission as a product shows it, without what every new submission has of its own, and
 * without pricing.isAdvancedPricingModel: read-only, the Store flips it to false on any PUT,
 * even one that echoes the submission (msstore-cli PR #175, StoreBroker#129).
 */
function comparable(submission: Json): Json {
  const { id: _i, friendlyName: _n, status: _s, statusDetails: _d, fileUploadUrl: _u, ...rest } = submission;
  if (rest.pricing && typeof rest.pricing === 'object') {
    const { isAdvancedPricingModel: _flag, ...pricing } = rest.pricing as Json;
    rest.pricing = pricing;
  }
  return rest;
}

/** pull → pack → dry run → submit → pull again; returns the pulled files. */
async function roundTrip(name: string, pullArgs: string[], productPath: string): Promise<Record<string, string>> {
  const before = await storeGet(sandbox, productPath);
  const publishedBefore = await storeGet(sandbox, `${productPath}/submissions/${lastPublished(before)}`);

  const folder = join(root, name);
  const pulled = await cli(['pull', ...pullArgs, folder]);
  expect(pulled).toMatchObject({ code: 0, stderr: '' });
  const files = filesOf(folder);

  const zip = join(root, `${name}.zip`);
  const packed = await cli(['pack', folder, '-o', zip, '--json']);
  expect(packed.code).toBe(0);

  // A dry run of the unchanged folder: the Store validates the PUT of the merged submission.
  const dryFolder = join(root, `${name}-dry`);
  expect((await cli(['pull', ...pullArgs, dryFolder])).code).toBe(0);
  const config = JSON.parse(readFileSync(join(dryFolder, 'store.json'), 'utf8')) as Json;
  writeFileSync(join(dryFolder, 'store.json'), JSON.stringify({ ...config, options: { dryRun: true } }));
  const dryZip = join(root, `${name}-dry.zip`);
  expect((await cli(['pack', dryFolder, '-o', dryZip])).code).toBe(0);
  const dry = await cli(['submit', dryZip, '--json', '--poll-interval', '100ms']);
  expect(dry.code).toBe(0);
  const dryStatus = (JSON.parse(dry.stdout) as { status: StatusDocument }).status;
  expect(dryStatus).toMatchObject({ status: 'Succeeded', outcome: 'DryRunSucceeded' });
  // The run's own preview (lib/preview.ts) of the merged submission against the published one: nothing.
  expect(dryStatus.preview).toMatchObject({ against: publishedBefore.id, changes: [] });

  // The unchanged folder submitted for real: the Store's published submission is the same as before.
  const submitted = await cli(['submit', zip, '--json', '--poll-interval', '100ms']);
  expect(submitted.code).toBe(0);
  const status = (JSON.parse(submitted.stdout) as { status: StatusDocument }).status;
  expect(status).toMatchObject({ status: 'Succeeded', outcome: 'Succeeded' });
  // The run ends at the commit (the pulled store.json keeps the default waitFor); the Store
  // publishes a little later, on a busy machine after the CLI has returned.
  const after = await eventually(`the Store to publish ${status.submissionId}`, async () => {
    const product = await storeGet(sandbox, productPath);
    return lastPublished(product) !== publishedBefore.id && product;
  });
  const publishedAfter = await storeGet(sandbox, `${productPath}/submissions/${lastPublished(after)}`);
  expect(publishedAfter.id).not.toBe(publishedBefore.id);
  expect(comparable(publishedAfter)).toEqual(comparable(publishedBefore));

  const again = join(root, `${name}-again`);
  expect((await cli(['pull', ...pullArgs, again])).code).toBe(0);
  expect(filesOf(again)).toEqual(files);
  return files;
}

function lastPublished(product: Json): string {
  const pointer = (product.lastPublishedApplicationSubmission ??
    product.lastPublishedFlightSubmission ??
    product.lastPublishedInAppProductSubmission) as { id: string };
  return pointer.id;
}

describe('store-submitter pull', () => {
  it.concurrent(
    'the demo app: its listings as text files, its images listed, and a round trip that changes nothing',
    async () => {
      const files = await roundTrip('app', [SEED_IDS.demoApp], `applications/${SEED_IDS.demoApp}`);
      expect(JSON.parse(files['store.json']!)).toEqual({
        target: { kind: 'app', applicationId: SEED_IDS.demoApp },
        listingOnly: true,
      });
      expect(files['listings/en-us/title.txt']).toBe('Contoso Demo\n');
      expect(files['listings/de-de/description.txt']).toBe('Eine Demo-App des Store-Emulators.\n');
      expect(files['listings/en-us/keywords.txt']).toBe('demo\ncontoso\n');
      expect(files['listings/en-us/images/Screenshot/01-screenshot1.txt']).toBe('Main window\n');
      expect(Object.keys(files).some((f) => f.endsWith('releaseNotes.txt'))).toBe(false);
      expect((JSON.parse(files['images.json']!) as { images: unknown[] }).images).toEqual([
        {
          language: 'de-de',
          imageType: 'Screenshot',
          fileName: 'listings/de-de/images/Screenshot/01-screenshot1.png',
          published: 'Images/de-de/screenshot1.png',
        },
        {
          language: 'en-us',
          imageType: 'Screenshot',
          fileName: 'listings/en-us/images/Screenshot/01-screenshot1.png',
          published: 'Images/en-us/screenshot1.png',
        },
        {
          language: 'en-us',
          imageType: 'StoreLogoSquare',
          fileName: 'listings/en-us/images/StoreLogoSquare/01-storelogo.png',
          published: 'Images/en-us/storelogo.png',
        },
      ]);
    },
  );

  it.concurrent('the demo flight: store.json only, and a round trip that changes nothing', async () => {
    const files = await roundTrip(
      'flight',
      [SEED_IDS.demoFlight, '--application-id', SEED_IDS.demoApp],
      `applications/${SEED_IDS.demoApp}/flights/${SEED_IDS.demoFlight}`,
    );
    expect(Object.keys(files)).toEqual(['store.json']);
    expect(JSON.parse(files['store.json']!)).toEqual({
      target: { kind: 'flight', applicationId: SEED_IDS.demoApp, flightId: SEED_IDS.demoFlight },
      listingOnly: true,
    });
  });

  it.concurrent('the demo add-on (found by its id alone): title, description, the icon listed', async () => {
    const files = await roundTrip('addon', [SEED_IDS.demoAddOn], `inappproducts/${SEED_IDS.demoAddOn}`);
    expect(files['listings/en-us/title.txt']).toBe('Demo add-on\n');
    expect(files['listings/en-us/description.txt']).toBe('Unlocks the demo features.\n');
    expect(JSON.parse(files['images.json']!)).toMatchObject({
      images: [{ language: 'en-us', imageType: 'Icon', fileName: 'listings/en-us/icon.png' }],
    });
  });

  it.concurrent(
    'pack says which images are still missing, and refuses a language given only some of them',
    async () => {
      const folder = join(root, 'images');
      const pulled = await cli(['pull', SEED_IDS.demoApp, folder]);
      expect(pulled.code).toBe(0);
      // The app's round trip beside this test may have published a new submission meanwhile: any id.
      expect(pulled.stdout.replace(/submission \d{19}/, 'submission N').split('\n')).toEqual([
        `Pulled app ${SEED_IDS.demoApp} (Contoso Demo), published submission N, into ${folder}`,
        '  files     store.json, images.json, 12 listing file(s)',
        '  listings  de-de, en-us',
        `  images    3 listed in ${folder}/images.json: the Store's API cannot download images; put each PNG where it says (pack says which are still missing)`,
        '  packages  none: store.json says listingOnly, so the published packages stay; add new ones and remove listingOnly',
        `  next      store-submitter pack ${folder}`,
        '',
      ]);
      const missing = await cli(['pack', folder, '-o', join(root, 'images-1.zip')]);
      expect(missing.code).toBe(0);
      expect(missing.stdout).toContain(
        'missing   3 image(s) that images.json lists are not in the folder yet, so de-de, en-us keep the published images:',
      );
      expect(missing.stdout).toContain('listings/en-us/images/StoreLogoSquare/01-storelogo.png');

      // de-de complete, en-us half: de-de's image is given with its caption, en-us is refused.
      writeFileSync(join(folder, 'listings/de-de/images/Screenshot/01-screenshot1.png'), PNG);
      writeFileSync(join(folder, 'listings/en-us/images/Screenshot/01-screenshot1.png'), PNG);
      const partial = await cli(['pack', folder, '-o', join(root, 'images-2.zip')]);
      expect(partial.code).toBe(2);
      expect(partial.stderr).toContain(
        'images.json images[2]: lists listings/en-us/images/StoreLogoSquare/01-storelogo.png, which is not in the folder, while listings/en-us gives other images',
      );

      mkdirSync(join(folder, 'listings/en-us/images/StoreLogoSquare'));
      writeFileSync(join(folder, 'listings/en-us/images/StoreLogoSquare/01-storelogo.png'), PNG);
      const complete = await cli(['pack', folder, '-o', join(root, 'images-3.zip'), '--json']);
      expect(complete.code).toBe(0);
      const out = JSON.parse(complete.stdout) as { manifest: Json; missingImages: string[] };
      expect(out.missingImages).toEqual([]);
      const listings = (out.manifest.submission as Json).listings as Record<
        string,
        { baseListing: { images: Json[] } }
      >;
      expect(listings['de-de']!.baseListing.images).toEqual([
        {
          fileName: 'listings/de-de/images/Screenshot/01-screenshot1.png',
          imageType: 'Screenshot',
          description: 'Hauptfenster',
        },
      ]);
      expect(listings['en-us']!.baseListing.images).toHaveLength(2);
    },
  );

  it.concurrent('the route answers what it cannot find with the reason, and never a secret', async () => {
    const get = async (path: string): Promise<{ status: number; body: Json }> => {
      const res = await sandbox.host.fetch(`/api/products/${path}`);
      return { status: res.status, body: (await res.json()) as Json };
    };
    const app = await get(`app/${SEED_IDS.demoApp}/published`);
    expect(app.status).toBe(200);
    expect(JSON.stringify(app.body)).not.toMatch(/fileUploadUrl|sig=/i);
    expect(app.body).toMatchObject({
      product: { kind: 'app', applicationId: SEED_IDS.demoApp, primaryName: 'Contoso Demo' },
      submission: { applicationPackages: expect.any(Array) },
    });
    expect(await get(`app/9NBLGGH4ZZZZ/published`)).toMatchObject({
      status: 404,
      body: { error: { code: 'ProductNotFound' } },
    });
    expect(await get(`app/${SEED_IDS.newApp}/published`)).toMatchObject({
      status: 404,
      body: { error: { code: 'NoPublishedSubmission' } },
    });
    expect(await get(`flight/${SEED_IDS.demoFlight}/published`)).toMatchObject({
      status: 400,
      body: { error: { code: 'InvalidProductId', message: expect.stringContaining('?applicationId=') } },
    });
    expect(await get(`game/${SEED_IDS.demoApp}/published`)).toMatchObject({
      status: 400,
      body: { error: { code: 'InvalidProductKind' } },
    });

    const unknown = await cli(['pull', '9NBLGGH4ZZZZ', join(root, 'unknown')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('The Store has no add-on by that id.');
  });
});
