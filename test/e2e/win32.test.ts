/**
 * MSI and EXE apps end to end on the sandbox: a zip with installers lands, the run copies them
 * to the packages container, gives the emulated Store their URLs (which it really downloads),
 * changes listings and images, submits and follows the submission; the emulator's state is
 * checked as the Store would hold it.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { WIN32_SEED_IDS, type Win32State } from '../../sandbox/emulator';
import { ZIP_METADATA } from '../../lib/storage';
import { exeOf, msiOf, pngOf } from '../helpers/files';
import { findLeakedSecrets } from '../helpers/secrets';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { goodZip } from '../helpers/zips';
import { E2E_SETTINGS, dropAndFinish, runIdOf, stepsOf } from './support';

const MSI_APP = WIN32_SEED_IDS.msiApp;
const EXE_APP = WIN32_SEED_IDS.exeApp;
const BUSY_APP = WIN32_SEED_IDS.busyApp;
const MSI = 'installers/ContosoTools-1.3.0-x64.msi';
const EXE = 'installers/ContosoPlayerSetup-4.1.exe';
const SHOT = 'images/en-us/main.png';
const LOGO = 'images/logo.png';

function msiManifest(
  productId: string = MSI_APP,
  options: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): unknown {
  return {
    target: { kind: 'win32', productId },
    submission: {
      packages: [{ fileName: MSI, languages: ['en-us', 'de-de'], architectures: ['X64'], isSilentInstall: true }],
      listings: { 'en-us': { whatsNew: 'Version 1.3: faster start-up.' } },
      listingAssets: { 'en-us': { screenshots: [{ fileName: SHOT }] } },
      ...extra,
    },
    options: { waitFor: 'published', ...options },
  };
}

const msiFiles = (label = 'msi-1.3.0'): Record<string, Buffer> => ({
  [MSI]: msiOf(label, 64 * 1024),
  [SHOT]: pngOf(1920, 1080),
});

function productOf(state: Win32State, productId: string) {
  return state.products.find((p: { productId: string }) => p.productId === productId);
}

function submissionsOf(state: Win32State, productId: string, createdIn = 'API') {
  return state.submissions.filter(
    (s: { productId: string; createdIn: string }) => s.productId === productId && s.createdIn === createdIn,
  );
}

describe('MSI and EXE apps end to end', () => {
  let sandbox: TestSandbox;
  let packages: ContainerClient;

  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: { ...E2E_SETTINGS, WIN32_PACKAGES_CONTAINER: 'store-packages-e2e' } });
    packages = BlobServiceClient.fromConnectionString(sandbox.azurite.connectionString).getContainerClient(
      'store-packages-e2e',
    );
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('an MSI app: installer copied and downloaded by the Store, listing and screenshot changed, submitted, followed to PUBLISHED', async () => {
    const { instanceId, doc, zip } = await dropAndFinish(sandbox, 'tools-1.3.0.zip', msiManifest(), msiFiles());
    expect(doc).toMatchObject({
      status: 'Succeeded',
      kind: 'win32',
      product: { kind: 'win32', productId: MSI_APP },
      storeStatus: 'PUBLISHED',
    });
    expect(stepsOf(doc)).toEqual(
      expect.arrayContaining([
        'validateZip',
        'waitForTurn',
        'checkWin32Credential',
        'readWin32Draft',
        'stageWin32Installers',
        'applyWin32Change',
        'waitForDraft',
        'submitWin32Draft',
        'waitFor:published',
        'writeReport',
      ]),
    );
    expect(doc.timeline.find((s) => s.step === 'submitWin32Draft')?.correlationIds?.[0]).toMatch(/^[0-9a-f-]{36}$/);

    const state = await sandbox.emulator.win32.admin.state();
    const [ours] = submissionsOf(state, MSI_APP);
    expect(ours).toMatchObject({ submissionId: doc.submissionId, status: 'PUBLISHED' });
    const blobName = `${MSI_APP}/${instanceId}/${MSI}`;
    expect(ours.packages).toEqual([
      expect.objectContaining({
        packageUrl: `${packages.url}/${blobName}`,
        packageType: 'msi',
        architectures: ['X64'],
        languages: ['en-us', 'de-de'],
        isSilentInstall: true,
      }),
    ]);
    expect(ours.listings.find((l: { language: string }) => l.language === 'en-us')).toMatchObject({
      whatsNew: 'Version 1.3: faster start-up.',
      description: expect.stringMatching(/toolbox/),
    });
    const en = ours.assets.find((a: { language: string }) => a.language === 'en-us');
    expect(en.screenshots).toEqual([expect.objectContaining({ imageSize: { width: 1920, height: 1080 } })]);
    expect(en.storeLogos).toHaveLength(1);
    // The Store really downloaded the installer, byte for byte, from the run's own URL.
    expect(state.downloads).toContainEqual(
      expect.objectContaining({ url: `${packages.url}/${blobName}`, ok: true, bytes: 64 * 1024 }),
    );
    expect((await packages.getBlobClient(blobName).downloadToBuffer()).equals(msiFiles()[MSI]!)).toBe(true);
    // The draft the run kept aside is gone; the installer stays (the Store's URL points at it).
    expect(await packages.getBlobClient(`${MSI_APP}/${instanceId}/draft-before.json`).exists()).toBe(false);

    const report = JSON.parse(
      (await sandbox.reports.getBlobClient(`tools-1.3.0.zip/${instanceId}.json`).downloadToBuffer()).toString(),
    );
    expect(report).toMatchObject({ status: 'Succeeded', submissionId: doc.submissionId, kind: 'win32' });
    const props = await sandbox.submissions.getBlobClient('tools-1.3.0.zip').getProperties();
    expect(props.metadata).toMatchObject({
      [ZIP_METADATA.instanceId]: instanceId,
      [ZIP_METADATA.outcome]: 'Succeeded',
    });
    expect(props.contentLength).toBe(zip.length);
  });

  it('an EXE app: switches, return codes and the help link go to the Store; "commit" ends once the Store has it', async () => {
    const manifest = {
      target: { kind: 'win32', productId: EXE_APP },
      submission: {
        packages: [
          {
            fileName: EXE,
            languages: ['en-us'],
            architectures: ['X64'],
            isSilentInstall: false,
            installerParameters: '/S /norestart',
            genericDocUrl: 'https://contoso.example/player/setup-codes',
            errorDetails: [
              { errorScenario: 'rebootRequired', errorScenarioDetails: [{ errorValue: '3010' }] },
              {
                errorScenario: 'diskSpaceIsFull',
                errorScenarioDetails: [{ errorValue: '112', errorUrl: 'https://contoso.example/112' }],
              },
            ],
            packageType: 'exe',
          },
        ],
        listingAssets: { 'en-us': { storeLogos: [{ fileName: LOGO }] } },
        properties: { certificationNotes: 'Install with /S.' },
      },
    };
    const { doc } = await dropAndFinish(sandbox, 'player-4.1.zip', manifest, {
      [EXE]: exeOf('player', 32 * 1024),
      [LOGO]: pngOf(300, 300),
    });
    expect(doc).toMatchObject({ status: 'Succeeded', kind: 'win32' });
    expect(['INPROGRESS', 'PUBLISHED']).toContain(doc.storeStatus);
    const state = await sandbox.emulator.win32.admin.state();
    const sub = state.submissions.find((s: { submissionId: string }) => s.submissionId === doc.submissionId);
    expect(sub.packages).toEqual([
      expect.objectContaining({
        packageType: 'exe',
        installerParameters: '/S /norestart',
        genericDocUrl: 'https://contoso.example/player/setup-codes',
        errorDetails: [
          { errorScenario: 'rebootRequired', errorScenarioDetails: [{ errorValue: '3010', errorUrl: '' }] },
          {
            errorScenario: 'diskSpaceIsFull',
            errorScenarioDetails: [{ errorValue: '112', errorUrl: 'https://contoso.example/112' }],
          },
        ],
      }),
    ]);
    const en = sub.assets.find((a: { language: string }) => a.language === 'en-us');
    expect(en.storeLogos).toEqual([expect.objectContaining({ imageSize: { width: 300, height: 300 } })]);
    expect(en.screenshots).toHaveLength(2); // a type not given keeps its images
    expect(productOf(state, EXE_APP).properties.certificationNotes).toBe('Install with /S.');
  });

  it('a listing-only update: no installer, the published packages stay, nothing is downloaded', async () => {
    await sandbox.emulator.win32.admin.reset();
    const before = productOf(await sandbox.emulator.win32.admin.state(), MSI_APP).packages;
    const manifest = {
      target: { kind: 'win32', productId: MSI_APP },
      submission: {
        listings: { 'de-de': { whatsNew: 'Fehler behoben.' }, 'en-us': { searchTerms: ['contoso', 'toolbox'] } },
      },
      options: { waitFor: 'published' },
    };
    const { doc, instanceId } = await dropAndFinish(sandbox, 'tools-listing.zip', manifest);
    expect(doc).toMatchObject({ status: 'Succeeded', storeStatus: 'PUBLISHED' });
    expect(stepsOf(doc)).not.toContain('stageWin32Installers');
    const state = await sandbox.emulator.win32.admin.state();
    const [ours] = submissionsOf(state, MSI_APP);
    expect(ours.packages).toEqual(before);
    expect(state.downloads).toEqual([]);
    expect(ours.listings.find((l: { language: string }) => l.language === 'de-de').whatsNew).toBe('Fehler behoben.');
    expect(ours.listings.find((l: { language: string }) => l.language === 'en-us').searchTerms).toEqual([
      'contoso',
      'toolbox',
    ]);
    const left = [];
    for await (const b of packages.listBlobsFlat({ prefix: `${MSI_APP}/${instanceId}/` })) left.push(b.name);
    expect(left).toEqual([]);
  });

  it('an installer URL the Store cannot download: the run fails saying so, puts the draft back and submits nothing', async () => {
    await sandbox.emulator.win32.admin.reset();
    const before = productOf(await sandbox.emulator.win32.admin.state(), MSI_APP);
    await sandbox.emulator.win32.admin.fault({ kind: 'packageUrlRefused', productId: MSI_APP });
    const { doc, instanceId } = await dropAndFinish(sandbox, 'tools-refused.zip', msiManifest(), msiFiles('refused'));
    expect(doc).toMatchObject({ status: 'Failed', failure: { facts: { code: 'PackageUploadFailed' } } });
    expect(doc.failure?.message).toContain(`${MSI_APP}/${instanceId}/${MSI}`);
    expect(doc.failure?.message).toMatch(/HTTP 403/);
    expect(doc.failure?.advice).toMatch(/put the product's draft back as it was before it \(packages\)/);
    expect(doc.failure?.advice).toMatch(/WIN32_PACKAGES_STORAGE/);
    const state = await sandbox.emulator.win32.admin.state();
    expect(submissionsOf(state, MSI_APP)).toEqual([]);
    const now = productOf(state, MSI_APP);
    expect(now.packages.map((p: { packageUrl: string }) => p.packageUrl)).toEqual(
      before.packages.map((p: { packageUrl: string }) => p.packageUrl),
    );
    expect(now.moduleStatus).toEqual({ isReady: true, errors: [] });
    expect(now.listings).toEqual(before.listings);
    const left = [];
    for await (const b of packages.listBlobsFlat({ prefix: `${MSI_APP}/${instanceId}/` })) left.push(b.name);
    expect(left).toEqual([]);
  });

  it('a submission in progress: the run waits it out, then changes the draft and submits its own', async () => {
    await sandbox.emulator.win32.admin.reset();
    const etag = await sandbox.drop('busy-2.1.zip', goodZip(msiManifest(BUSY_APP), msiFiles('busy')));
    const instanceId = runIdOf(sandbox, 'busy-2.1.zip', etag);
    const waiting = await sandbox.waitFor(instanceId, (d) => d.phase === 'WaitingForOngoingSubmission');
    expect(stepsOf(waiting)).toContain(`waitForSubmission:${WIN32_SEED_IDS.busyAppOngoingSubmission}`);
    // Nothing of the draft changed while the Store refuses changes.
    expect(sandbox.emulator.win32.admin).toBeDefined();
    expect(submissionsOf(await sandbox.emulator.win32.admin.state(), BUSY_APP)).toEqual([]);
    await sandbox.emulator.win32.admin.complete(WIN32_SEED_IDS.busyAppOngoingSubmission);
    const doc = await sandbox.finished(instanceId);
    expect(doc).toMatchObject({ status: 'Succeeded', storeStatus: 'PUBLISHED' });
    expect(doc.submissionId).not.toBe(WIN32_SEED_IDS.busyAppOngoingSubmission);
  });

  it('a submission in progress with options.ongoingSubmission "fail": refused at once, nothing changed', async () => {
    await sandbox.emulator.win32.admin.reset();
    const { doc } = await dropAndFinish(
      sandbox,
      'busy-fail.zip',
      msiManifest(BUSY_APP, { ongoingSubmission: 'fail' }),
      msiFiles('busy-fail'),
    );
    expect(doc).toMatchObject({ status: 'Failed', failure: { facts: { code: 'SubmissionInProgress' } } });
    expect(doc.failure?.message).toContain(WIN32_SEED_IDS.busyAppOngoingSubmission);
    expect(doc.failure?.advice).toMatch(/ongoingSubmission to "wait"/);
    expect(stepsOf(doc)).not.toContain('applyWin32Change');
  });

  it('someone submits in Partner Center while the run changes the draft: the refusal is waited out, then the run goes on', async () => {
    await sandbox.emulator.win32.admin.reset();
    await sandbox.emulator.win32.admin.fault({
      kind: 'portalSubmission',
      productId: MSI_APP,
      match: { method: 'PATCH', path: 'metadata' },
      held: true,
    });
    const etag = await sandbox.drop('tools-race.zip', goodZip(msiManifest(), msiFiles('race')));
    const instanceId = runIdOf(sandbox, 'tools-race.zip', etag);
    // The run first reads who holds the draft, then waits that submission out.
    const waiting = await sandbox.waitFor(
      instanceId,
      (d) => d.phase === 'WaitingForOngoingSubmission' && stepsOf(d).some((s) => s.startsWith('waitForSubmission:')),
    );
    const [portal] = submissionsOf(await sandbox.emulator.win32.admin.state(), MSI_APP, 'PartnerCenter');
    expect(stepsOf(waiting)).toContain(`waitForSubmission:${portal.submissionId}`);
    // The refused change is made again once that submission has ended.
    await sandbox.emulator.win32.admin.complete(portal.submissionId);
    const doc = await sandbox.finished(instanceId);
    expect(doc).toMatchObject({ status: 'Succeeded', storeStatus: 'PUBLISHED' });
    expect(doc.submissionId).not.toBe(portal.submissionId);
    const [ours] = submissionsOf(await sandbox.emulator.win32.admin.state(), MSI_APP);
    expect(ours.listings.find((l: { language: string }) => l.language === 'en-us').whatsNew).toBe(
      'Version 1.3: faster start-up.',
    );
  });

  it('a canceled run puts the draft back', async () => {
    await sandbox.emulator.win32.admin.reset();
    const before = productOf(await sandbox.emulator.win32.admin.state(), MSI_APP);
    // The draft stays busy a while after the packages commit (the host's clock runs fast), so the run is caught between changes.
    await sandbox.emulator.win32.admin.configure({ packageProcessingMs: 3000 });
    try {
      const etag = await sandbox.drop('tools-cancel.zip', goodZip(msiManifest(), msiFiles('cancel')));
      const instanceId = runIdOf(sandbox, 'tools-cancel.zip', etag);
      await sandbox.waitFor(instanceId, (d) => d.phase === 'WaitingForDraft');
      const canceled = await sandbox.host.fetch(`/api/submissions/${instanceId}/cancel`, { method: 'POST' });
      expect(canceled.status).toBe(202);
      const doc = await sandbox.waitFor(
        instanceId,
        (d) => d.status === 'Canceled' && stepsOf(d).includes('writeReport'),
      );
      expect(doc.timeline.find((s) => s.step === 'putBackDraft')?.detail).toMatch(/put the product's draft back/);
      const now = productOf(await sandbox.emulator.win32.admin.state(), MSI_APP);
      expect(now.packages.map((p: { packageUrl: string }) => p.packageUrl)).toEqual(
        before.packages.map((p: { packageUrl: string }) => p.packageUrl),
      );
      expect(submissionsOf(await sandbox.emulator.win32.admin.state(), MSI_APP)).toEqual([]);
    } finally {
      await sandbox.emulator.win32.admin.configure({ packageProcessingMs: 30 });
    }
  });

  it('bad input: every problem named, nothing sent to the Store', async () => {
    await sandbox.emulator.admin.reset();
    const manifest = msiManifest(
      MSI_APP,
      {},
      { packages: [{ fileName: MSI, languages: ['en-us'], architectures: ['X64'], isSilentInstall: true }] },
    );
    const { doc } = await dropAndFinish(sandbox, 'tools-bad.zip', manifest, {
      [MSI]: exeOf('not an msi'),
      [SHOT]: pngOf(10, 10),
      'installers/extra.exe': exeOf('x'),
    });
    expect(doc).toMatchObject({
      status: 'Failed',
      failure: { step: 'validateZip', facts: { code: 'InvalidManifest' } },
    });
    const problems = (doc.failure?.facts.problems ?? [])
      .map((p) => `${p.file} ${p.field ?? ''}: ${p.message}`)
      .join('\n');
    expect(problems).toMatch(/submission\.json submission\.packages: does not list "installers\/extra\.exe"/);
    const requests = (await sandbox.emulator.admin.state()).requests.filter(
      (r) => r.server === 'win32' && r.path.includes(MSI_APP),
    );
    expect(requests).toEqual([]);
  });

  it('leaks no SAS signature, token or secret anywhere', async () => {
    const secrets = await sandbox.emulator.admin.secrets();
    // The package URLs the runs gave the Store are among the secrets searched for.
    expect(secrets.sasSignatures.length).toBeGreaterThan(3);
    expect(await findLeakedSecrets(sandbox)).toEqual([]);
  });
});
