import type { ContainerClient } from '@azure/storage-blob';
import { InputError } from '../../../lib/errors';
import { mergeSubmission, pendingUploads, readSubmissionZip } from '../../../lib/manifest';
import { freshContainer } from '../../helpers/azurite';
import {
  ADDON_ID,
  APP_ID,
  BAD_INPUTS,
  ENCODED_MANIFESTS,
  FLIGHT_ID,
  fakeFile,
  findProblem,
  goodZip,
  manifests,
  rawZip,
} from '../../helpers/zips';

let container: ContainerClient;
beforeAll(async () => {
  container = await freshContainer('manifest');
});

async function upload(name: string, bytes: Buffer) {
  const blob = container.getBlockBlobClient(name);
  const { etag } = await blob.upload(bytes, bytes.length);
  return { blob, etag: etag!, label: `${container.containerName}/${name}` };
}

describe('readSubmissionZip: bad input', () => {
  test.each(Object.entries(BAD_INPUTS))('%s', async (name, bad) => {
    const { blob, etag, label } = await upload(`${name}.zip`, bad.bytes());
    const err = await readSubmissionZip(blob, etag).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const problems = (err as InputError).problems;
    expect({ code: (err as InputError).code, problem: findProblem(problems, bad.expect, label) }).toEqual({
      code: bad.expect.code,
      problem: expect.anything(),
    });
  });

  test('a zip bomb is refused from the central directory alone, without inflating it', async () => {
    const { blob, etag } = await upload('bomb-stats.zip', BAD_INPUTS.zipBomb!.bytes());
    const err = await readSubmissionZip(blob, etag).catch((e: unknown) => e);
    expect((err as InputError).problems).toHaveLength(1);
    expect((err as Error).message).toMatch(
      /^assets\/zeros\.bin uncompressedSize: expands 4 KiB to 4 MiB \(a 1028:1 ratio; the limit is 1000:1\): refused as a zip bomb$/,
    );
  });
});

describe('readSubmissionZip: good zips', () => {
  const pkg = 'packages/Contoso_1.2.0.0_x64.msixupload';
  const files = {
    [pkg]: fakeFile('p', 2048),
    'images/en-us/1.png': fakeFile('i', 512),
    'icons/en.png': fakeFile('c', 300),
  };

  test.each([
    [
      'app',
      manifests.app({
        listings: {
          'en-us': { baseListing: { images: [{ fileName: 'images/en-us/1.png', imageType: 'Screenshot' }] } },
        },
      }),
      [pkg, 'images/en-us/1.png'],
    ],
    ['flight by id', manifests.flightById({ flightPackages: [{ fileName: pkg }] }), [pkg]],
    ['flight by name', manifests.flightByName(), [pkg]],
    [
      'add-on by id',
      manifests.addonById({ listings: { en: { title: 'Levels', icon: { fileName: 'icons/en.png' } } } }),
      ['icons/en.png'],
    ],
    [
      'add-on by product id',
      manifests.addonByProductId({ listings: { en: { icon: { fileName: 'icons/en.png' } } } }),
      ['icons/en.png'],
    ],
  ] as const)('%s', async (name, manifest, uploads) => {
    const { blob, etag } = await upload(`good-${name.replace(/ /g, '-')}.zip`, goodZip(manifest, files));
    const read = await readSubmissionZip(blob, etag);
    expect(read.manifest.target).toEqual(manifest.target);
    expect(read.manifest.submission).toEqual(manifest.submission);
    expect(read.entries.map((e) => e.name)).toEqual(['submission.json', ...Object.keys(files)]);
    expect(read.stats.requests).toBe(1);
    const merged = mergeSubmission(read.manifest.target.kind, {}, read.manifest, read.entries);
    expect(pendingUploads(read.manifest.target.kind, merged).sort()).toEqual([...uploads].sort());
  });

  test('overrides from the start request win over the manifest options', async () => {
    const { blob, etag } = await upload(
      'overrides.zip',
      goodZip({ ...manifests.app(), options: { dryRun: false, waitFor: 'published' } }),
    );
    const { manifest } = await readSubmissionZip(blob, etag, { dryRun: true });
    expect(manifest.options).toEqual({
      pendingSubmission: 'replace',
      packages: 'replace',
      waitFor: 'published',
      dryRun: true,
      existingRollout: 'fail',
    });
    const err = await readSubmissionZip(blob, etag, { waitFor: 'never' }).catch((e: unknown) => e);
    expect((err as InputError).problems).toEqual([
      {
        file: 'start request',
        field: 'options.waitFor',
        message: 'must be one of "commit", "published" (got "never")',
      },
    ]);
  });

  test('manifests with a UTF-8 or UTF-16 byte order mark are accepted', async () => {
    for (const [name, encode] of Object.entries(ENCODED_MANIFESTS)) {
      const { blob, etag } = await upload(`enc-${name}.zip`, goodZip(encode(manifests.app({ friendlyName: 'Größe' }))));
      expect((await readSubmissionZip(blob, etag)).manifest.submission).toEqual({ friendlyName: 'Größe' });
    }
  });

  test('a zip whose manifest uses a data descriptor (as streaming zippers write it)', async () => {
    const bytes = rawZip([
      { name: 'submission.json', data: JSON.stringify(manifests.addonById()), deflate: true, dataDescriptor: true },
    ]);
    const { blob, etag } = await upload('descriptor.zip', bytes);
    expect((await readSubmissionZip(blob, etag)).manifest.target).toEqual({ kind: 'addon', inAppProductId: ADDON_ID });
  });

  test('ids in the fixtures are well-formed', () => {
    expect([APP_ID, ADDON_ID]).toEqual([
      expect.stringMatching(/^[0-9A-Z]{12}$/),
      expect.stringMatching(/^[0-9A-Z]{12}$/),
    ]);
    expect(FLIGHT_ID).toMatch(/^[0-9a-f-]{36}$/);
  });
});
