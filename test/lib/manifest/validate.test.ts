import { InputError, InputProblem } from '../../../lib/errors';
import { validateManifest, validateOptions } from '../../../lib/manifest';
import type { ZipEntryInfo } from '../../../lib/zip/blobZip';
import { ADDON_ID, APP_ID, ENCODED_MANIFESTS, FLIGHT_ID, manifests } from '../../helpers/zips';

const entry = (name: string, size = 100): ZipEntryInfo => ({
  name,
  directory: name.endsWith('/'),
  compressedSize: size,
  uncompressedSize: size,
});
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v, null, 2));

function problemsOf(fn: () => unknown): InputProblem[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).problems;
  }
  throw new Error('expected an InputError');
}

describe('validateManifest: good manifests', () => {
  const entries = [
    entry('submission.json'),
    entry('packages/'),
    entry('packages/App_x64.msixupload'),
    entry('images/en-us/1.png'),
    entry('icons/en.png'),
  ];

  test('app: target, submission and options with defaults applied', () => {
    const m = validateManifest(
      json(manifests.app({ applicationPackages: [{ fileName: 'packages/App_x64.msixupload' }], visibility: 'Public' })),
      entries,
    );
    expect(m).toEqual({
      target: { kind: 'app', applicationId: APP_ID },
      submission: { applicationPackages: [{ fileName: 'packages/App_x64.msixupload' }], visibility: 'Public' },
      options: {
        pendingSubmission: 'replace',
        packages: 'replace',
        waitFor: 'commit',
        dryRun: false,
        existingRollout: 'fail',
      },
    });
  });

  test('flight by id and by friendly name', () => {
    expect(
      validateManifest(
        json(manifests.flightById({ flightPackages: [{ fileName: 'packages/App_x64.msixupload' }] })),
        entries,
      ).target,
    ).toEqual({
      kind: 'flight',
      applicationId: APP_ID,
      flightId: FLIGHT_ID,
    });
    const byName = validateManifest(json(manifests.flightByName()), entries);
    expect(byName.target).toEqual({
      kind: 'flight',
      applicationId: APP_ID,
      flight: { friendlyName: 'Insiders', groupIds: ['1152921504606962205'], rankHigherThan: 'Beta' },
    });
    expect(byName.submission).toEqual({});
  });

  test('add-on by id and by product id, with an icon', () => {
    const listings = { listings: { en: { title: 'More levels', icon: { fileName: 'icons/en.png' } } } };
    expect(validateManifest(json(manifests.addonById(listings)), entries).target).toEqual({
      kind: 'addon',
      inAppProductId: ADDON_ID,
    });
    expect(validateManifest(json(manifests.addonByProductId(listings)), entries).target).toEqual({
      kind: 'addon',
      addon: { productId: 'extra-levels', productType: 'Durable', applicationId: APP_ID },
    });
  });

  test('$schema is allowed; submission may be left out', () => {
    const m = validateManifest(
      json({ $schema: './submission.schema.json', target: { kind: 'app', applicationId: APP_ID } }),
      entries,
    );
    expect(m.submission).toEqual({});
  });

  test('overrides win over the manifest options, which win over defaults', () => {
    const m = validateManifest(json({ ...manifests.app(), options: { dryRun: true, waitFor: 'published' } }), entries, {
      waitFor: 'commit',
      packages: 'add',
    });
    expect(m.options).toEqual({
      pendingSubmission: 'replace',
      packages: 'add',
      waitFor: 'commit',
      dryRun: true,
      existingRollout: 'fail',
    });
  });

  test.each(Object.entries(ENCODED_MANIFESTS))('a manifest in %s is accepted', (_name, encode) => {
    expect(validateManifest(encode(manifests.app({ friendlyName: 'Café ✓' })), entries).submission).toEqual({
      friendlyName: 'Café ✓',
    });
  });

  test('"fileStatus": "PendingUpload" copied from the Store docs is accepted for a package, an image and an icon', () => {
    const app = manifests.app({
      applicationPackages: [{ fileName: 'a.msix', fileStatus: 'PendingUpload' }],
      listings: {
        'en-us': {
          baseListing: {
            images: [{ fileName: 'images/en-us/1.png', imageType: 'Screenshot', fileStatus: 'PendingUpload' }],
          },
        },
      },
    });
    expect(() => validateManifest(json(app), [...entries, entry('a.msix')])).not.toThrow();
    const addon = manifests.addonById({
      listings: { en: { icon: { fileName: 'i.png', fileStatus: 'PendingUpload' } } },
    });
    expect(() => validateManifest(json(addon), [entry('i.png')])).not.toThrow();
    // Any other value is still the submitter's to set, and refused as before.
    const other = problemsOf(() =>
      validateManifest(json(manifests.app({ applicationPackages: [{ fileName: 'a.msix', fileStatus: 'Uploaded' }] })), [
        entry('a.msix'),
      ]),
    );
    expect(other).toEqual([
      {
        file: 'submission.json',
        field: 'submission.applicationPackages[0].fileStatus',
        message: expect.stringMatching(/^is set by the submitter: packages listed here are uploaded \(PendingUpload\)/),
      },
    ]);
  });

  test('a fileName written with backslashes (as in the Store docs) matches the zip entry', () => {
    const m = manifests.app({
      listings: {
        'en-us': { baseListing: { images: [{ fileName: 'images\\en-us\\1.png', imageType: 'Screenshot' }] } },
      },
    });
    expect(() => validateManifest(json(m), entries)).not.toThrow();
  });
});

describe('validateManifest: problems', () => {
  test('collects schema problems and missing files together, naming file and field', () => {
    const manifest = {
      target: { kind: 'app', applicationId: 'NOT-AN-ID' },
      submission: {
        visibility: 'Everyone',
        applicationPackages: [{ fileName: 'App_x64.msixupload' }, { fileName: 'readme.txt' }],
        listings: {
          'en-us': {
            baseListing: { descripton: 'typo', images: [{ fileName: 'Images/EN-US/1.PNG', imageType: 'Screenshot' }] },
          },
        },
        id: '1152921504621243540',
      },
      options: { waitFor: 'forever' },
    };
    const problems = problemsOf(() =>
      validateManifest(json(manifest), [
        entry('submission.json'),
        entry('packages/App_x64.msixupload'),
        entry('images/en-us/1.png'),
        entry('readme.txt'),
      ]),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          file: 'submission.json',
          field: 'target.applicationId',
          message:
            'must be a 12-character Store ID of digits and capital letters, such as 9NBLGGH4R315 (got "NOT-AN-ID")',
        },
        {
          file: 'submission.json',
          field: 'submission.visibility',
          message: 'must be one of "Hidden", "Public", "Private", "NotSet" (got "Everyone")',
        },
        {
          file: 'submission.json',
          field: 'submission.listings.en-us.baseListing.descripton',
          message: 'is not a field of a base listing; did you mean "description"?',
        },
        {
          file: 'submission.json',
          field: 'submission.id',
          message: 'is read-only: the Store sets it; leave it out of submission.json',
        },
        {
          file: 'submission.json',
          field: 'options.waitFor',
          message: 'must be one of "commit", "published" (got "forever")',
        },
        {
          file: 'submission.json',
          field: 'submission.applicationPackages[0].fileName',
          message: '"App_x64.msixupload" is not in the zip; did you mean "packages/App_x64.msixupload"?',
        },
        {
          file: 'submission.json',
          field: 'submission.listings.en-us.baseListing.images[0].fileName',
          message:
            '"Images/EN-US/1.PNG" is not in the zip; the zip has "images/en-us/1.png" (names must match exactly, letter case included)',
        },
        {
          file: 'submission.json',
          field: 'submission.applicationPackages[1].fileName',
          message: expect.stringMatching(/"readme.txt" is not a package \(expected one of \.msix, /),
        },
      ]),
    );
    expect(problems).toHaveLength(8);
  });

  test('flight needs exactly one of flightId and flight; add-on of inAppProductId and addon', () => {
    const neither = problemsOf(() => validateManifest(json({ target: { kind: 'flight', applicationId: APP_ID } }), []));
    expect(neither).toEqual([
      {
        file: 'submission.json',
        field: 'target',
        message: expect.stringMatching(/needs exactly one of "flightId" \(an existing flight\) or "flight"/),
      },
    ]);
    const both = problemsOf(() =>
      validateManifest(
        json({
          target: {
            kind: 'addon',
            inAppProductId: ADDON_ID,
            addon: { productId: 'x', productType: 'Durable', applicationId: APP_ID },
          },
        }),
        [],
      ),
    );
    expect(both).toEqual([
      {
        file: 'submission.json',
        field: 'target',
        message: expect.stringMatching(/needs exactly one of "inAppProductId"/),
      },
    ]);
  });

  test('flight group ids must be quoted strings; a new add-on needs a valid productType', () => {
    const flight = problemsOf(() =>
      validateManifest(
        json({
          target: {
            kind: 'flight',
            applicationId: APP_ID,
            flight: { friendlyName: 'x', groupIds: [1152921504606962205] },
          },
        }),
        [],
      ),
    );
    expect(flight).toEqual([
      {
        file: 'submission.json',
        field: 'target.flight.groupIds[0]',
        message: expect.stringMatching(/must be a string \(got 1152921504606962200\)/),
      },
    ]);
    const addon = problemsOf(() =>
      validateManifest(
        json({
          target: { kind: 'addon', addon: { productId: 'x', productType: 'Subscription', applicationId: APP_ID } },
        }),
        [],
      ),
    );
    expect(addon).toEqual([
      {
        file: 'submission.json',
        field: 'target.addon.productType',
        message: 'must be one of "Durable", "Consumable" (got "Subscription")',
      },
    ]);
  });

  test('fields of another kind and store-filled package fields are refused', () => {
    const problems = problemsOf(() =>
      validateManifest(
        json(
          manifests.addonById({
            applicationPackages: [],
            listings: { en: { icon: { fileName: 'i.png', fileStatus: 'Uploaded' } } },
          }),
        ),
        [entry('i.png')],
      ),
    );
    expect(problems).toEqual([
      {
        file: 'submission.json',
        field: 'submission.applicationPackages',
        message: expect.stringMatching(/^is not a field of an add-on submission/),
      },
      {
        file: 'submission.json',
        field: 'submission.listings.en.icon.fileStatus',
        message: 'is set by the submitter: an icon given here is uploaded (PendingUpload)',
      },
    ]);
    const pkg = problemsOf(() =>
      validateManifest(json(manifests.app({ applicationPackages: [{ fileName: 'a.msix', version: '1.0.0.0' }] })), [
        entry('a.msix'),
      ]),
    );
    expect(pkg).toEqual([
      {
        file: 'submission.json',
        field: 'submission.applicationPackages[0].version',
        message: 'is filled in by the Store from the package itself; leave it out',
      },
    ]);
  });

  test('unknown top-level fields and listing keys that are not language codes', () => {
    const problems = problemsOf(() =>
      validateManifest(json({ ...manifests.app({ listings: { 'en us': {} } }), submision: {} }), []),
    );
    expect(problems).toEqual([
      {
        file: 'submission.json',
        field: 'submission.listings["en us"]',
        message: 'is not a language code; keys here are language codes such as en-us or de',
      },
      {
        file: 'submission.json',
        field: 'submision',
        message: 'is not a field of submission.json; did you mean "submission"?',
      },
    ]);
  });

  test('invalid JSON says line and column', () => {
    const cases: Array<[string, RegExp]> = [
      [
        '{\n  "target": {"kind": "app"}\n  "submission": {}\n}',
        /line 3, column 3: expected "," or "}" but found "\\""/,
      ],
      ['{"target": {\'kind\': "app"}}', /line 1, column 13: expected a "quoted" property name/],
      [
        '{"a": "C:\\Temp"}',
        /line 1, column 10: invalid escape "\\T" \(in a Windows path, write each backslash twice, or use "\/"\)/,
      ],
      ['', /line 1, column 1: the file is empty/],
      ['{"a": 1} x', /line 1, column 10: unexpected "x" after the end/],
      ['{"a": "unterminated}', /line 1, column 7: this string is never closed/],
      ['[1, 2,]', /trailing comma before "]".*must hold one JSON object/],
    ];
    for (const [text, message] of cases) {
      const [p] = problemsOf(() => validateManifest(Buffer.from(text), []));
      expect(p).toEqual({ file: 'submission.json', message: expect.stringMatching(message) });
    }
  });

  test('UTF-16 without a byte order mark is explained', () => {
    const [p] = problemsOf(() => validateManifest(Buffer.from(JSON.stringify(manifests.app()), 'utf16le'), []));
    expect(p!.message).toMatch(/NUL character \(is the file UTF-16 without a byte order mark\? save it as UTF-8\)/);
  });

  test('overlong and surrogate UTF-8 sequences are not valid UTF-8', () => {
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ]) {
      const bytes = Buffer.concat([Buffer.from('{"a": "'), Buffer.from(bad), Buffer.from('"}')]);
      expect(problemsOf(() => validateManifest(bytes, []))[0]!.message).toMatch(
        /is not valid UTF-8: byte 7 \(line 1\)/,
      );
    }
  });

  test('more than 25 package files in the zip with none listed', () => {
    const entries = Array.from({ length: 26 }, (_, i) => entry(`p${i}.msix`));
    expect(problemsOf(() => validateManifest(json(manifests.app()), entries))).toEqual([
      {
        file: 'submission.json',
        field: 'submission.applicationPackages',
        message: expect.stringMatching(/the zip has 26; the Store takes at most 25/),
      },
    ]);
  });

  test('a fileName naming a folder, or written as an absolute path', () => {
    const problems = problemsOf(() =>
      validateManifest(
        json(manifests.flightById({ flightPackages: [{ fileName: 'packages/' }, { fileName: '/packages/a.msix' }] })),
        [entry('packages/'), entry('packages/a.msix')],
      ),
    );
    expect(problems.map((p) => p.message)).toEqual([
      '"packages/" is a folder in the zip, not a file',
      expect.stringMatching(/"\/packages\/a.msix" is not in the zip; give the path relative to the zip root/),
      expect.stringMatching(/"packages\/" is not a package/),
    ]);
  });

  test('invalid overrides are reported against the start request, together with manifest problems', () => {
    const problems = problemsOf(() =>
      validateManifest(json({ target: { kind: 'app' } }), [], { dryRun: 1, turbo: true }),
    );
    expect(problems).toEqual([
      { file: 'submission.json', field: 'target.applicationId', message: 'is required' },
      {
        file: 'start request',
        field: 'options.turbo',
        message: expect.stringMatching(
          /^is not a known option; known: pendingSubmission, packages, waitFor, dryRun, existingRollout/,
        ),
      },
      { file: 'start request', field: 'options.dryRun', message: 'must be a boolean (got 1)' },
    ]);
  });
});

describe('validateOptions', () => {
  test('returns valid options as given and refuses bad ones under the given field', () => {
    expect(validateOptions({ dryRun: true, existingRollout: 'halt' }, 'body.options')).toEqual({
      dryRun: true,
      existingRollout: 'halt',
    });
    const e = (() => {
      try {
        validateOptions({ existingRollout: 'resume' }, 'body.options');
      } catch (err) {
        return err as InputError;
      }
      throw new Error('expected an InputError');
    })();
    expect(e.code).toBe('InvalidOptions');
    expect(e.problems).toEqual([
      {
        file: 'start request',
        field: 'body.options.existingRollout',
        message: 'must be one of "fail", "finalize", "halt" (got "resume")',
      },
    ]);
    expect(() => validateOptions('dryRun')).toThrow(/options: must be an object \(got "dryRun"\)/);
  });
});

describe('validateManifest: release control options', () => {
  const entries = [entry('submission.json'), entry('packages/App_x64.msixupload')];
  const app = (options: Record<string, unknown>) => ({
    ...manifests.app({ applicationPackages: [{ fileName: 'packages/App_x64.msixupload' }] }),
    options,
  });

  test('takes commit "approval" and a ramp on an app, and names the step of a bad ramp', () => {
    const rollout = [{ percentage: 5 }, { percentage: 20, after: '24h' }, { finalize: true, after: '72h' }];
    const m = validateManifest(json(app({ commit: 'approval', rollout })), entries);
    expect(m.options).toMatchObject({ commit: 'approval', rollout });
    const fields = problemsOf(() =>
      validateManifest(json(app({ rollout: [{ percentage: 5 }, { percentage: 20, after: 'tomorrow' }] })), entries),
    ).map((p) => p.field);
    expect(fields).toEqual(['options.rollout[1].after']);
    expect(problemsOf(() => validateManifest(json(app({ commit: 'later' })), entries))[0]?.field).toMatch(/commit/);
  });

  test('takes a ramp of at most 10 steps, and names the file and field of a longer one', () => {
    const ramp = (n: number) => [
      { percentage: 1 },
      ...Array.from({ length: n - 1 }, (_, i) => ({ percentage: 2 + i, after: `${i + 1}h` })),
    ];
    expect(validateManifest(json(app({ rollout: ramp(10) })), entries).options.rollout).toHaveLength(10);
    expect(problemsOf(() => validateManifest(json(app({ rollout: ramp(11) })), entries))).toEqual([
      { file: 'submission.json', field: 'options.rollout', message: 'has 11 items; at most 10 are allowed' },
    ]);
    // Options given to the start call are held to the same limit.
    expect(problemsOf(() => validateManifest(json(app({})), entries, { rollout: ramp(12) }))).toEqual([
      { file: 'start request', field: 'options.rollout', message: 'has 12 items; at most 10 are allowed' },
    ]);
  });

  test('refuses a ramp on an add-on', () => {
    const problems = problemsOf(() =>
      validateManifest(json({ ...manifests.addonById(), options: { rollout: [{ percentage: 5 }] } }), [
        entry('submission.json'),
      ]),
    );
    expect(problems).toEqual([
      expect.objectContaining({ field: 'options.rollout', message: expect.stringContaining('only apps and flights') }),
    ]);
  });
});
