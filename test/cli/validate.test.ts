import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSubmissionZip } from '../../lib/manifest';
import type { InputProblem } from '../../lib/errors';
import { freshContainer } from '../helpers/azurite';
import { APP_ID, BAD_INPUTS, fakeFile, findProblem, goodZip, manifests, packageFor } from '../helpers/zips';
import { runCli, tempDir } from './helpers';

let dir: string;
beforeAll(() => {
  dir = tempDir('validate');
});

function zipFile(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('validate <zip>', () => {
  // Every class of bad input the pipeline's tests know: the CLI must find the same problem in a local file.
  test.each(Object.entries(BAD_INPUTS))('%s: exit 2 with the problem the pipeline reports', async (name, bad) => {
    const path = zipFile(`${name}.zip`, bad.bytes());
    const result = await runCli(['validate', path, '--json']);
    expect(result.code).toBe(2);
    const out = JSON.parse(result.stdout) as { valid: boolean; code: string; problems: InputProblem[] };
    expect(out.valid).toBe(false);
    expect({ code: out.code, problem: findProblem(out.problems, bad.expect, path) }).toEqual({
      code: bad.expect.code,
      problem: expect.anything(),
    });
  });

  it('reports exactly what a run reports for the same zip in blob storage', async () => {
    const bytes = goodZip(
      {
        target: { kind: 'app', applicationId: '9nblggh4r315' },
        submission: { status: 'Published', applicationPackages: [{ fileName: 'present.msix' }] },
        options: { waitfor: 'published', dryRun: 'yes' },
      },
      { 'packages/present.msix': fakeFile('p') },
    );
    const container = await freshContainer('cli-validate');
    const blob = container.getBlockBlobClient('same.zip');
    const { etag } = await blob.upload(bytes, bytes.length);
    const pipeline = await readSubmissionZip(blob, etag!).catch((e: { problems: InputProblem[] }) => e.problems);

    const path = zipFile('same.zip', bytes);
    const json = await runCli(['validate', path, '--json']);
    expect(JSON.parse(json.stdout).problems).toEqual(pipeline);
    expect(pipeline).toHaveLength(5);

    // The readable form: every problem on its own line, with file and field.
    const human = await runCli(['validate', path]);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr.split('\n').filter(Boolean)).toEqual([
      `error: ${path} is not valid (5 problems):`,
      ...(pipeline as InputProblem[]).map((p) => `  ${p.file} ${p.field}: ${p.message}`),
    ]);
    expect(human.stderr).toContain(
      'submission.json submission.applicationPackages[0].fileName: "present.msix" is not in the zip; did you mean "packages/present.msix"?',
    );
  });

  it('a valid zip: exit 0, what it submits, the identity it read and what it could not check offline', async () => {
    const pkg = 'packages/Contoso_1.0.0.0_x64.msixupload';
    const path = zipFile('good.zip', goodZip(manifests.app(), { [pkg]: packageFor(pkg) }));
    const human = await runCli(['validate', path]);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toContain(`is valid: app ${APP_ID}`);
    expect(human.stdout).toContain(`packages  ${pkg}`);
    expect(human.stdout).toContain(`identity  ${pkg}: Contoso.Demo, CN=Contoso Ltd., 1.0.0.0 x64`);
    expect(human.stdout).toMatch(/not checked offline: .*identity name and publisher are the app's/);
    expect(human.stdout).toMatch(/not checked offline: .*version is higher than the published package/);
    const json = JSON.parse((await runCli(['validate', path, '--json'])).stdout);
    expect(json).toMatchObject({
      valid: true,
      target: { kind: 'app', applicationId: APP_ID },
      uploads: [pkg],
      packages: [{ file: pkg, name: 'Contoso.Demo', publisher: 'CN=Contoso Ltd.', versions: ['1.0.0.0 x64'] }],
    });
    expect(json.notChecked).toHaveLength(2);
  });

  it('a package that is no MSIX/APPX, or packages of two publishers: exit 2 naming file, field and values', async () => {
    const a = 'packages/Contoso_2.0.0.0_x64.msix';
    const b = 'packages/Contoso_2.0.0.0_arm64.msix';
    const broken = 'packages/Contoso_2.0.0.0_x86.msix';
    const manifest = manifests.app({ applicationPackages: [{ fileName: a }, { fileName: b }, { fileName: broken }] });
    const path = zipFile(
      'two-publishers.zip',
      goodZip(manifest, {
        [a]: packageFor(a),
        [b]: packageFor(b, { publisher: 'CN=Fabrikam' }),
        [broken]: fakeFile('not a package', 512),
      }),
    );
    const result = await runCli(['validate', path, '--json']);
    expect(result.code).toBe(2);
    const out = JSON.parse(result.stdout) as { code: string; problems: InputProblem[] };
    expect(out.code).toBe('PackageRefused');
    expect(out.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: broken, message: expect.stringMatching(/is not an MSIX\/APPX package/) }),
        {
          file: b,
          field: 'AppxManifest.xml Identity/@Publisher',
          message: `is "CN=Fabrikam", but ${a} has "CN=Contoso Ltd.": the packages of one submission must have one publisher`,
        },
      ]),
    );
  });

  it('a missing file or a folder is a usage error (exit 2)', async () => {
    const missing = await runCli(['validate', join(dir, 'nope.zip')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.zip does not exist/);
    const folder = await runCli(['validate', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/is a folder; make a zip of it with: store-submitter pack/);
  });

  it('unknown options and missing arguments exit 2; --help exits 0', async () => {
    expect((await runCli(['validate'])).code).toBe(2);
    expect((await runCli(['validate', 'a.zip', '--frobnicate'])).code).toBe(2);
    expect((await runCli(['nonsense'])).code).toBe(2);
    const help = await runCli(['submit', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--connection-string <cs>');
    expect(help.stdout).toContain('Exit codes:');
  });
});
