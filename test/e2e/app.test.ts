import { SEED_IDS, fetchToken } from '../../sandbox/emulator';
import { ZIP_METADATA } from '../../lib/storage';
import { fakeFile, goodZip, packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { instanceIdFor } from '../../lib/instanceId';

const PACKAGE = 'packages/Contoso.Demo_2.0.0.0_x64.msixupload';
const SCREENSHOT = 'images/en-us/new-screenshot.png';

function appManifest(options: Record<string, unknown> = {}): unknown {
  return {
    target: { kind: 'app', applicationId: SEED_IDS.demoApp },
    submission: {
      listings: {
        'en-us': {
          baseListing: {
            releaseNotes: 'Version 2: faster and greener.',
            images: [{ fileName: SCREENSHOT, imageType: 'Screenshot' }],
          },
        },
      },
      applicationPackages: [{ fileName: PACKAGE }],
    },
    options,
  };
}

async function storeGet(sandbox: TestSandbox, path: string): Promise<Record<string, unknown>> {
  const token = await fetchToken(sandbox.emulator);
  const response = await fetch(`${sandbox.emulator.apiBaseUrl}${path}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

// On Flex Consumption the blob trigger takes Event Grid as its source (the sandbox's topic
// delivers BlobCreated to its webhook); on Premium it polls.
describe.each(['flex', 'premium'] as const)('an app submission end to end, on %s', (plan) => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    // Certification is slow here so that the committed submission can be inspected before it is published.
    sandbox = await startTestSandbox({ emulator: { config: { certificationMs: 60_000 } }, host: { plan } });
  });
  afterAll(() => sandbox?.stop());

  it("takes a dropped zip to exactly one committed submission with the manifest's packages, listing and images", async () => {
    const zip = goodZip(appManifest(), { [PACKAGE]: packageFor(PACKAGE), [SCREENSHOT]: fakeFile('png', 64) });
    const etag = await sandbox.drop('releases/contoso-2.0.zip', zip);
    const instanceId = instanceIdFor(sandbox.submissions.containerName, 'releases/contoso-2.0.zip', etag);

    const doc = await sandbox.finished(instanceId);
    expect(doc).toMatchObject({
      status: 'Succeeded',
      phase: 'Succeeded',
      kind: 'app',
      product: { kind: 'app', applicationId: SEED_IDS.demoApp },
    });
    expect(['PreProcessing', 'Certification']).toContain(doc.storeStatus);
    const steps = doc.timeline.map((s) => s.step);
    expect(steps).toEqual(
      expect.arrayContaining([
        'validateZip',
        'checkCredential',
        'resolveProduct',
        'createSubmission',
        'updateSubmission',
        'uploadPackageZip',
        'commitSubmission',
        'writeReport',
      ]),
    );
    expect(doc.timeline.find((s) => s.step === 'createSubmission')?.correlationIds?.[0]).toMatch(/^[0-9a-f-]{36}$/);

    const state = await sandbox.emulator.admin.state();
    const ours = state.submissions.filter(
      (s) => s.productId === SEED_IDS.demoApp && s.createdIn === 'API' && s.id !== SEED_IDS.demoAppPublishedSubmission,
    );
    expect(ours).toHaveLength(1);
    const submission = ours[0]!;
    expect(submission.id).toBe(doc.submissionId);
    expect(submission.status).not.toBe('PendingCommit');
    const files = Object.fromEntries(
      submission.files.map((f) => [String(f.fileName).replace(/\\/g, '/'), f.fileStatus]),
    );
    expect(files[PACKAGE]).toMatch(/PendingUpload|Uploaded/);
    expect(files[SCREENSHOT]).toMatch(/PendingUpload|Uploaded/);
    // The clone's packages and its en-us images make way; de-de keeps its images.
    const old = submission.files.filter((f) => f.fileName !== PACKAGE && f.fileName !== SCREENSHOT);
    expect(
      old.filter((f) => f.where.includes('applicationPackages')).every((f) => f.fileStatus === 'PendingDelete'),
    ).toBe(true);
    expect(old.filter((f) => f.where.includes('en-us')).every((f) => f.fileStatus === 'PendingDelete')).toBe(true);
    expect(old.filter((f) => f.where.includes('de-de')).every((f) => f.fileStatus !== 'PendingDelete')).toBe(true);
    expect(submission.upload?.size).toBe(zip.length);

    const body = await storeGet(sandbox, `applications/${SEED_IDS.demoApp}/submissions/${submission.id}`);
    const listings = body.listings as Record<string, { baseListing: Record<string, unknown> }>;
    expect(listings['en-us']!.baseListing.releaseNotes).toBe('Version 2: faster and greener.');
    // Fields the manifest does not name stay as published.
    expect(listings['en-us']!.baseListing.title).toBe('Contoso Demo');
    expect(body.applicationCategory).toBe('Productivity');

    const report = await sandbox.reports
      .getBlobClient(`releases/contoso-2.0.zip/${instanceId}.json`)
      .downloadToBuffer();
    expect(JSON.parse(report.toString())).toMatchObject({
      instanceId,
      status: 'Succeeded',
      submissionId: submission.id,
    });
    const props = await sandbox.submissions.getBlobClient('releases/contoso-2.0.zip').getProperties();
    expect(props.metadata).toMatchObject({
      [ZIP_METADATA.instanceId]: instanceId,
      [ZIP_METADATA.outcome]: 'Succeeded',
    });
    expect(props.contentLength).toBe(zip.length);

    // The run's metadata on the zip makes a new version, which fires too (and starts nothing: see the guarantees).
    const fired = sandbox.logs.filter((l) => /^Executing 'Functions\.submissionBlobTrigger'/.test(l.message));
    expect(fired.length).toBeGreaterThanOrEqual(1);
    const source = plan === 'flex' ? 'EventGrid' : 'LogsAndContainerScan';
    for (const f of fired) expect(f.message).toContain(`New blob detected(${source})`);
    if (plan === 'flex') {
      expect(sandbox.topic?.deliveries.length).toBeGreaterThanOrEqual(1);
      // The first delivery started the run; a later one (the run's metadata write) may still be on its way.
      expect(sandbox.topic!.deliveries[0]!.result).toBe('delivered');
      for (const d of sandbox.topic!.deliveries) expect(d.result).not.toBe('deadLettered');
    } else expect(sandbox.topic).toBeUndefined();
  });
});
