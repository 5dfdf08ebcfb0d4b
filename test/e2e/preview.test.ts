/**
 * The preview of what a run's submission changes against the published one, end to end: the
 * run changes one language's text and replaces the packages; the preview lists exactly that,
 * in the status (bounded) and in the report (whole), and a dry run shows it too.
 */
import { SEED_IDS } from '../../sandbox/emulator';
import type { SubmissionPreview } from '../../lib/preview';
import { packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { E2E_SETTINGS, dropAndFinish, stepsOf, type Json } from './support';

const APP = SEED_IDS.demoApp;
let build = 0;

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
    const expected: SubmissionPreview = {
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
        { area: 'package', change: 'added', fileName: pkg, version: `2.7.${build}.0`, architecture: 'X64' },
      ],
    };
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
});
