/**
 * The custom status stays under the Durable extension's 16 KB (UTF-16) whatever the input: a zip
 * whose listing names 200 images it does not hold fails with a clear message and a report, and
 * its status, read through the Durable status API, is far under the limit. Without the bound
 * (lib/statusBound.ts) the problem list appears three times (failure message, timeline detail,
 * facts) and the status passes 16 KB: the host then fails the instance before the report is written.
 */
import { SEED_IDS } from '../../sandbox/emulator';
import type { StatusDocument } from '../../lib/statusDocument';
import { CUSTOM_STATUS_LIMIT_KB, utf16Bytes } from '../../lib/statusBound';
import { goodZip, packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { runIdOf, type Json } from './support';

const PACKAGE = 'packages/Contoso.Demo_2.0.0.0_x64.msixupload';
const MISSING = 200;

describe('a zip with 200 missing images', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(() => sandbox?.stop());

  it('fails with a clear message and a report, and its custom status stays under 16 KB', async () => {
    const images = Array.from({ length: MISSING }, (_, i) => ({
      fileName: `images/en-us/screenshots/a-rather-long-screenshot-name-${String(i).padStart(3, '0')}.png`,
      imageType: 'Screenshot',
    }));
    const zip = goodZip(
      {
        target: { kind: 'app', applicationId: SEED_IDS.demoApp },
        submission: {
          listings: { 'en-us': { baseListing: { releaseNotes: 'Many pictures.', images } } },
          applicationPackages: [{ fileName: PACKAGE }],
        },
      },
      { [PACKAGE]: packageFor(PACKAGE) },
    );
    const name = 'limits/200-missing-images.zip';
    const etag = await sandbox.drop(name, zip);
    const id = runIdOf(sandbox, name, etag);
    const doc = await sandbox.finished(id);

    // A clear message: what is wrong with the first images, how many more, where the rest is.
    expect(doc).toMatchObject({ status: 'Failed', outcome: 'Failed' });
    const failure = doc.failure!;
    expect(failure.facts).toMatchObject({ code: 'InvalidManifest', retriable: false });
    expect(failure.message).toContain(images[0]!.fileName);
    expect(failure.message).not.toMatch(/Orchestrator function|Activity function|StackTrace|\[\[submitter-error/);
    const problems = failure.facts.problems!;
    expect(problems.length).toBeLessThanOrEqual(11);
    expect(problems[problems.length - 1]!.message).toMatch(/more problem\(s\); the report has all of it/);

    // The report has the whole list (as many as one error lists), the status a bounded part.
    expect(doc.reportBlob).toBeDefined();
    const report = JSON.parse(
      (await sandbox.reports.getBlobClient(doc.reportBlob!).downloadToBuffer()).toString(),
    ) as StatusDocument;
    expect(report).toMatchObject({ instanceId: id, status: 'Failed', outcome: 'Failed' });
    expect(report.failure!.facts.problems!.length).toBeGreaterThanOrEqual(100);
    expect(report.failure!.facts.problems!.map((p) => p.field)).toContain(
      'submission.listings.en-us.baseListing.images[99].fileName',
    );

    // The size the extension measures, through the Durable status API.
    const durable = await sandbox.host.fetch(`/runtime/webhooks/durabletask/instances/${id}`);
    expect(durable.status).toBe(200);
    const status = (await durable.json()) as Json;
    expect(status.runtimeStatus).toBe('Failed');
    const bytes = utf16Bytes(status.customStatus);
    expect(bytes).toBeGreaterThan(1000);
    expect(bytes).toBeLessThan(CUSTOM_STATUS_LIMIT_KB * 1024);
    // Without the bound, the same failure is several times the limit (what the bound saves us from).
    expect(utf16Bytes({ ...(status.customStatus as Json), failure: report.failure })).toBeGreaterThan(
      CUSTOM_STATUS_LIMIT_KB * 1024,
    );
  });
});
