/**
 * The preview of what a run's submission changes against the published one, end to end: the
 * run changes one language's text and replaces the packages; the preview lists exactly that,
 * in the status (bounded) and in the report (whole), and a dry run shows it too. The same
 * preview comes before anything is sent, from POST /api/preview and `validate --against-store`,
 * with GET requests only.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEED_IDS, type EmulatorState } from '../../sandbox/emulator';
import { previewLines, type SubmissionPreview } from '../../lib/preview';
import { goodZip, packageFor } from '../helpers/zips';
import { functionsApp, startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { runCli, tempDir } from '../cli/helpers';
import { E2E_SETTINGS, dropAndFinish, stepsOf, type Json } from './support';

const APP = SEED_IDS.demoApp;
let build = 0;

/** What a submission of `pkg` that changes the de-de description changes against the seeded app: that, and the packages. */
function expectedPreview(pkg: string, n: number): SubmissionPreview {
  return {
    against: SEED_IDS.demoAppPublishedSubmission,
    counts: { language: 0, text: 1, image: 0, package: 3, setting: 0 },
    changes: [
      {
        area: 'text',
        change: 'changed',
        language: 'de-de',
        field: 'description',
        before: 'Eine Demo-App des Store-Emulators.',
        after: 'Jetzt mit Vorschau.',
      },
      {
        area: 'package',
        change: 'removed',
        fileName: 'Packages/ContosoDemo_1.0.0.0_x64.msix',
        version: '1.0.0.0',
        architecture: 'X64',
      },
      {
        area: 'package',
        change: 'removed',
        fileName: 'Packages/ContosoDemo_1.0.0.0_arm64.msix',
        version: '1.0.0.0',
        architecture: 'Arm64',
      },
      { area: 'package', change: 'added', fileName: pkg, version: `2.7.${n}.0`, architecture: 'X64' },
    ],
  };
}

describe('the preview of a submission', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: E2E_SETTINGS });
  });
  afterAll(() => sandbox?.stop());
  beforeEach(async () => {
    await sandbox.emulator.admin.reset('default');
    await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'PreProcessing' });
  });

  function manifest(pkg: string, options: Json = {}): unknown {
    return {
      target: { kind: 'app', applicationId: APP },
      submission: {
        applicationPackages: [{ fileName: pkg }],
        listings: { 'de-de': { baseListing: { description: 'Jetzt mit Vorschau.' } } },
      },
      options,
    };
  }

  async function report(name: string): Promise<Json> {
    return JSON.parse((await sandbox.reports.getBlobClient(name).downloadToBuffer()).toString('utf8')) as Json;
  }

  it('lists exactly the text changed and the packages replaced, and nothing else', async () => {
    const pkg = `packages/ContosoDemo_2.7.${++build}.0_x64.msixupload`;
    const { doc } = await dropAndFinish(sandbox, 'preview/one-language.zip', manifest(pkg), {
      [pkg]: packageFor(pkg),
    });
    expect(doc.status).toBe('Succeeded');
    const expected = expectedPreview(pkg, build);
    expect(doc.preview).toEqual(expected);
    // Computed before the commit, as its own step after the update.
    const steps = stepsOf(doc);
    expect(steps.indexOf('previewSubmission')).toBeGreaterThan(steps.indexOf('updateSubmission'));
    expect(steps.indexOf('previewSubmission')).toBeLessThan(steps.indexOf('commitSubmission'));
    const written = await report(String(doc.reportBlob));
    expect(written.preview).toEqual(expected);
  });

  it('shows the preview of a dry run, which commits nothing', async () => {
    const pkg = `packages/ContosoDemo_2.7.${++build}.0_x64.msixupload`;
    const { doc } = await dropAndFinish(sandbox, 'preview/dry.zip', manifest(pkg, { dryRun: true }), {
      [pkg]: packageFor(pkg),
    });
    expect(doc).toMatchObject({ status: 'Succeeded', outcome: 'DryRunSucceeded' });
    expect(doc.preview?.counts).toEqual({ language: 0, text: 1, image: 0, package: 3, setting: 0 });
    expect(stepsOf(doc)).not.toContain('commitSubmission');
  });

  describe('before anything is sent', () => {
    /** A call on the app with a host key, as the CLI makes it. */
    const appFetch = (path: string, init: RequestInit = {}): Promise<Response> => sandbox.host.fetch(path, init);
    const appOptions = (): string[] => functionsApp(sandbox);
    /** What the Store holds: products and submissions, not the request log. */
    function held(state: EmulatorState): unknown {
      return { applications: state.applications, inAppProducts: state.inAppProducts, submissions: state.submissions };
    }
    function storeCalls(state: EmulatorState): string[] {
      return state.requests.filter((r) => r.server !== 'token').map((r) => `${r.method} ${r.server} ${r.path}`);
    }
    const dir = tempDir('preview');

    it("POST /api/preview answers the run's preview, with GET requests only and nothing changed in the Store", async () => {
      const pkg = `packages/ContosoDemo_2.7.${++build}.0_x64.msixupload`;
      const zip = goodZip(manifest(pkg), { [pkg]: packageFor(pkg) });
      const before = await sandbox.emulator.admin.state();
      const res = await appFetch('/api/preview', {
        method: 'POST',
        headers: { 'content-type': 'application/zip' },
        body: new Uint8Array(zip),
      });
      const body = (await res.json()) as Json;
      expect({ status: res.status, body }).toMatchObject({
        status: 200,
        body: {
          product: { kind: 'app', applicationId: APP },
          publishedSubmissionId: SEED_IDS.demoAppPublishedSubmission,
          preview: expectedPreview(pkg, build),
        },
      });
      expect(body).not.toHaveProperty('pendingSubmissionId');
      const after = await sandbox.emulator.admin.state();
      const calls = storeCalls(after);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.filter((c) => !c.startsWith('GET api '))).toEqual([]);
      expect(held(after)).toEqual(held(before));
    });

    it('validate --against-store prints that preview as status prints it, and --json carries it', async () => {
      const pkg = `packages/ContosoDemo_2.7.${++build}.0_x64.msixupload`;
      const path = join(dir, `one-language-${build}.zip`);
      writeFileSync(path, goodZip(manifest(pkg), { [pkg]: packageFor(pkg) }));
      const expected = expectedPreview(pkg, build);
      const before = await sandbox.emulator.admin.state();

      const human = await runCli(['validate', path, '--against-store', ...appOptions()]);
      expect({ code: human.code, stderr: human.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      const lines = human.stdout.split('\n');
      expect(lines.slice(0, 2)).toEqual([
        `Asking the Functions app at ${sandbox.host.url} what ${path} changes in the Store (read only)`,
        `${path} is valid: app ${APP}`,
      ]);
      expect(lines).toContain(`  store     app ${APP}, published submission ${SEED_IDS.demoAppPublishedSubmission}`);
      const at = lines.indexOf('Preview');
      expect(lines.slice(at, -1)).toEqual(['Preview', ...previewLines(expected).map((l) => `  ${l}`)]);

      const json = await runCli(['validate', path, '--against-store', '--json', ...appOptions()]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, store: { preview: expected } });

      const after = await sandbox.emulator.admin.state();
      expect(storeCalls(after).filter((c) => !c.startsWith('GET api '))).toEqual([]);
      expect(held(after)).toEqual(held(before));
    });

    it('a flight named by a name the app has no flight of: a run would create it; the preview creates nothing', async () => {
      const pkg = `packages/ContosoDemo_2.7.${++build}.0_x64.msixupload`;
      const zip = goodZip(
        {
          target: {
            kind: 'flight',
            applicationId: APP,
            flight: { friendlyName: 'Preview ring', groupIds: ['1152921504607280735'] },
          },
          submission: { flightPackages: [{ fileName: pkg }] },
        },
        { [pkg]: packageFor(pkg) },
      );
      const before = await sandbox.emulator.admin.state();
      const res = await appFetch('/api/preview', {
        method: 'POST',
        headers: { 'content-type': 'application/zip' },
        body: new Uint8Array(zip),
      });
      const body = (await res.json()) as Json;
      expect({ status: res.status, creates: body.creates, product: body.product }).toEqual({
        status: 200,
        creates: 'flight',
        product: undefined,
      });
      expect(body.preview).toEqual({
        counts: { language: 0, text: 0, image: 0, package: 1, setting: 0 },
        changes: [{ area: 'package', change: 'added', fileName: pkg, version: `2.7.${build}.0`, architecture: 'X64' }],
      });
      const after = await sandbox.emulator.admin.state();
      expect(storeCalls(after)).toEqual([`GET api ${`/v1.0/my/applications/${APP}/listflights`}`]);
      expect(held(after)).toEqual(held(before));
    });

    it('a bad zip is refused naming file and field, and the Store is not called', async () => {
      const zip = goodZip({
        target: { kind: 'app', applicationId: APP },
        submission: { listings: { 'de-de': { baseListing: { description: 42 } } } },
      });
      const res = await appFetch('/api/preview', {
        method: 'POST',
        headers: { 'content-type': 'application/zip' },
        body: new Uint8Array(zip),
      });
      const body = (await res.json()) as { error: { code: string; message: string; problems: Json[] } };
      expect(res.status).toBe(400);
      expect(body.error.problems).toEqual([
        expect.objectContaining({
          file: 'submission.json',
          field: 'submission.listings.de-de.baseListing.description',
        }),
      ]);
      expect(body.error.message).toMatch(/^submission\.json submission\.listings\.de-de\.baseListing\.description: /);
      const notAZip = await appFetch('/api/preview', { method: 'POST', body: 'not a zip' });
      expect(notAZip.status).toBe(400);
      expect(((await notAZip.json()) as { error: { problems: Json[] } }).error.problems[0]).toMatchObject({
        file: 'the request body',
      });

      // The CLI refuses it before it calls the app.
      const path = join(dir, 'bad.zip');
      writeFileSync(path, zip);
      const cli = await runCli(['validate', path, '--against-store', ...appOptions()]);
      expect(cli.code).toBe(2);
      expect(cli.stderr).toContain('submission.json submission.listings.de-de.baseListing.description');
      expect(storeCalls(await sandbox.emulator.admin.state())).toEqual([]);
    });
  });
});
