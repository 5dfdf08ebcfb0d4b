/** Which package files become the manifest's packages, and when they are a mistake. */
import { ADDON_LISTING_FIELDS, APP_LISTING_FIELDS } from '../../../cli/pack/convention';
import { Findings } from '../../../cli/pack/findings';
import { listingFieldOf } from '../../../cli/pack/listings';
import { readPackages } from '../../../cli/pack/packages';
import { strayRootMessage } from '../../../cli/pack/scan';

const A = 'App_1.0.0.0_arm64.msix';
const X = 'App_1.0.0.0_x64.msix';

function run(
  config:
    { kind?: 'app' | 'flight' | 'addon'; listingOnly?: boolean; submission?: Record<string, unknown> } | undefined,
  packages: string[],
) {
  const findings = new Findings('/r', 'r');
  const submission: Record<string, unknown> = {};
  readPackages(
    config && { kind: config.kind, listingOnly: config.listingOnly ?? false, submission: config.submission ?? {} },
    packages,
    submission,
    findings,
  );
  return {
    submission,
    files: [...findings.files.keys()],
    packages: findings.summary.packages,
    problems: findings.problems.map((p) => `${p.file}${p.field ? ` ${p.field}` : ''}: ${p.message}`),
    findings,
  };
}

describe('readPackages', () => {
  it("lists an app's or a flight's root packages in the manifest and the zip, each traced to its file", () => {
    const app = run({ kind: 'app' }, [A, X]);
    expect(app.submission).toEqual({ applicationPackages: [{ fileName: A }, { fileName: X }] });
    expect(app.files).toEqual([A, X]);
    expect(app.packages).toEqual([A, X]);
    expect(app.problems).toEqual([]);
    expect(app.findings.originOf('submission.applicationPackages[1].fileName')).toBe(X);
    expect(run({ kind: 'flight' }, [X]).submission).toEqual({ flightPackages: [{ fileName: X }] });
  });

  it('leaves the list to store.json when it has one, and then a package file it does not name is a mistake', () => {
    const listed = run(
      { kind: 'app', submission: { applicationPackages: [{ fileName: A, minimumDirectXVersion: 'None' }] } },
      [X],
    );
    expect(listed.submission).toEqual({});
    expect(listed.packages).toEqual([A]);
    expect(listed.problems).toEqual([
      `r/${X}: is not in store.json submission.applicationPackages, which lists the packages to upload; add it there or remove the file`,
    ]);
  });

  it('wants a package unless the listings only are updated, and none then', () => {
    expect(run({ kind: 'app' }, []).problems).toEqual([
      expect.stringMatching(/^r\/: has no package: put the app's package files/),
    ]);
    expect(run({ kind: 'flight' }, []).problems).toEqual([
      expect.stringMatching(/^r\/: has no package: a flight submission needs at least one package file/),
    ]);
    expect(run({ kind: 'app', listingOnly: true }, []).problems).toEqual([]);
    expect(run({ kind: 'app', listingOnly: true }, [X]).problems).toEqual([
      'r/store.json listingOnly: is true, but the folder has 1 package(s) at its root; remove them, or listingOnly',
    ]);
    // A flight without packages (pull writes one): its other fields change, the published packages stay.
    expect(run({ kind: 'flight', listingOnly: true }, []).problems).toEqual([]);
    expect(run({ kind: 'addon', listingOnly: true }, []).problems[0]).toBe(
      'r/store.json listingOnly: is for app and flight submissions only (a submission without packages, which keeps the published ones)',
    );
  });

  it('refuses every package of an add-on, and decides nothing without a known kind', () => {
    expect(run({ kind: 'addon' }, [A, X]).problems).toEqual([
      `r/${A}: add-ons have no packages; remove it, or set target.kind in store.json`,
      `r/${X}: add-ons have no packages; remove it, or set target.kind in store.json`,
    ]);
    expect(run(undefined, [A])).toMatchObject({ submission: {}, files: [], problems: [] });
  });
});

describe('listingFieldOf and strayRootMessage', () => {
  it('maps a file to its listing field, or to the name it probably meant', () => {
    expect(listingFieldOf('releaseNotes.txt', true, APP_LISTING_FIELDS)).toEqual({
      field: expect.objectContaining({ field: 'releaseNotes' }),
    });
    expect(listingFieldOf('releaseNotes.txt', false, APP_LISTING_FIELDS)).toEqual({ near: 'releaseNotes.txt' });
    expect(listingFieldOf('release-notes.txt', true, APP_LISTING_FIELDS)).toEqual({ near: 'releaseNotes.txt' });
    expect(listingFieldOf('Description.md', true, APP_LISTING_FIELDS)).toEqual({ near: 'description.txt' });
    expect(listingFieldOf('keywords.txt', true, ADDON_LISTING_FIELDS)).toEqual({ near: undefined });
  });

  it('says what a stray root entry is not, with a hint when one fits', () => {
    const entry = (name: string, dir = false) => ({ name, isDirectory: () => dir, isFile: () => !dir });
    expect(strayRootMessage(entry('Listing', true))).toBe(
      'is not a folder of the convention; did you mean "listings"?',
    );
    expect(strayRootMessage(entry('Submission.json'))).toBe(
      "is written by pack; the folder's settings go in store.json",
    );
    expect(strayRootMessage(entry('notes.txt'))).toMatch(/^is not part of a release folder: package files \(\.msix, /);
  });
});
