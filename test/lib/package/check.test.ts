import { consistencyProblems, packageProblems, publishedUnitsOf } from '../../../lib/package/check';
import type { PackageInfo } from '../../../lib/package/identity';

const info = (
  file: string,
  over: Partial<PackageInfo['identity']> = {},
  units?: PackageInfo['units'],
  kind: PackageInfo['kind'] = 'package',
): PackageInfo => {
  const identity = {
    name: 'Contoso.Demo',
    publisher: 'CN=Contoso Ltd.',
    version: '2.0.0.0',
    architecture: 'x64',
    ...over,
  };
  return {
    file,
    container: 'msix',
    kind,
    identity,
    units: units ?? [{ architecture: identity.architecture ?? 'neutral', version: identity.version }],
    read: { method: 'stored', passes: 0, inflatedBytes: 0, rangeReads: 3 },
  };
};
const APP = { applicationId: '9NBLGGH4R315', packageIdentityName: 'Contoso.Demo', publisherName: 'CN=Contoso Ltd.' };
const PUBLISHED = publishedUnitsOf([
  { fileName: 'Packages/A_1.0.0.0_x64.msix', version: '1.0.0.0', architecture: 'X64', fileStatus: 'Uploaded' },
  { fileName: 'Packages/A.msixbundle', version: '1.5.0.0', architecture: 'X64,Arm64', fileStatus: 'Uploaded' },
  { fileName: 'gone.msix', version: '9.0.0.0', architecture: 'X86', fileStatus: 'PendingDelete' },
]);

describe('package checks before the Store', () => {
  test('publishedUnitsOf reads the Store’s spelling, bundles by architecture, and skips what is being deleted', () => {
    expect(PUBLISHED).toEqual([
      { fileName: 'Packages/A_1.0.0.0_x64.msix', architecture: 'x64', version: '1.0.0.0' },
      { fileName: 'Packages/A.msixbundle', architecture: 'x64', version: '1.5.0.0' },
      { fileName: 'Packages/A.msixbundle', architecture: 'arm64', version: '1.5.0.0' },
    ]);
  });

  test('a package of the app at a higher version passes', () => {
    expect(packageProblems([info('p.msix')], APP, PUBLISHED)).toEqual([]);
  });

  test('another identity name or publisher: the file, the field and both values', () => {
    const problems = packageProblems(
      [info('p.msix', { name: 'Fabrikam.App', publisher: 'CN=Fabrikam' })],
      APP,
      PUBLISHED,
    );
    expect(problems).toEqual([
      {
        file: 'p.msix',
        field: 'AppxManifest.xml Identity/@Name',
        message: expect.stringMatching(
          /^is "Fabrikam\.App", but app 9NBLGGH4R315 has the package identity name "Contoso\.Demo"/,
        ),
      },
      {
        file: 'p.msix',
        field: 'AppxManifest.xml Identity/@Publisher',
        message: expect.stringMatching(/^is "CN=Fabrikam", but app 9NBLGGH4R315 has the publisher "CN=Contoso Ltd\."/),
      },
    ]);
  });

  test('a version not higher than the published one of the same architecture, for each architecture of a bundle', () => {
    const bundle = info(
      'b.msixbundle',
      { architecture: undefined, version: '1.5.0.0' },
      [
        { architecture: 'x64', version: '1.6.0.0' },
        { architecture: 'arm64', version: '1.5.0.0' },
      ],
      'bundle',
    );
    expect(packageProblems([bundle], APP, PUBLISHED)).toEqual([
      {
        file: 'b.msixbundle',
        field: 'AppxMetadata/AppxBundleManifest.xml Packages/Package[2]/@Version',
        message: expect.stringMatching(
          /^is 1\.5\.0\.0 \(arm64\), not higher than the published package Packages\/A\.msixbundle \(1\.5\.0\.0, arm64\)/,
        ),
      },
    ]);
    // Another architecture has nothing published to compare with.
    expect(packageProblems([info('x86.msix', { architecture: 'x86', version: '0.1.0.0' })], APP, PUBLISHED)).toEqual(
      [],
    );
  });

  test('without the app (offline): the packages of one submission agree with each other', () => {
    expect(
      consistencyProblems([
        info('a.msix'),
        info('b.msix', { name: 'Other.Name' }),
        info('c.msix', { architecture: 'x64' }),
      ]),
    ).toEqual([
      {
        file: 'b.msix',
        field: 'AppxManifest.xml Identity/@Name',
        message: expect.stringMatching(/but a\.msix has "Contoso\.Demo"/),
      },
      {
        file: 'b.msix',
        field: 'AppxManifest.xml Identity/@Version',
        message: expect.stringMatching(/the same as a\.msix/),
      },
      {
        file: 'c.msix',
        field: 'AppxManifest.xml Identity/@Version',
        message: expect.stringMatching(/the same as a\.msix/),
      },
    ]);
  });
});
