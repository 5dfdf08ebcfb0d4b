/** The win32 Store steps against the emulator over real HTTP; the pure decisions beside them. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { StoreRequestError } from '../../../lib/errors';
import { storeCredential } from '../../../lib/store/credential';
import { SUBMISSION_IN_PROGRESS, Win32StoreClient } from '../../../lib/store/win32Client';
import { describeChange, planChanges } from '../../../lib/win32/plan';
import { judgeWin32Status } from '../../../lib/win32/polling';
import {
  commitPackagesOrConfirm,
  change,
  draftState,
  putPackages,
  readDraft,
  replaceImages,
  restoreImages,
  submissionStatus,
  submitOrAdopt,
} from '../../../lib/win32/steps';
import { WIN32_SCOPE, WIN32_SEED_IDS, startEmulator, type RunningEmulator } from '../../../sandbox/emulator';
import { freshContainer, testStorage } from '../../helpers/azurite';
import { eventually } from '../../helpers/eventually';
import { emulatorStoreConfig } from '../../helpers/storeClients';
import { msiOf, pngOf } from '../../helpers/files';
import { FAST_WIN32, hostedInstaller, msiPackage } from '../../sandbox/emulator/win32Harness';

const MSI = WIN32_SEED_IDS.msiApp;

describe('win32 steps on the emulated Store', () => {
  let emu: RunningEmulator;
  let client: Win32StoreClient;
  let container: ContainerClient;

  beforeAll(async () => {
    emu = await startEmulator({
      ingestConnectionString: testStorage().ingestConnectionString,
      tlsDir: mkdtempSync(join(tmpdir(), 'win32-steps-tls-')),
      config: { rateLimitEnabled: false },
      win32: { config: FAST_WIN32 },
    });
    const ca = readFileSync(emu.caCertPath, 'utf8');
    const store = emulatorStoreConfig(emu);
    client = new Win32StoreClient({
      baseUrl: emu.win32.apiBaseUrl,
      sellerId: emu.win32.sellerId,
      credential: storeCredential(store, { caCertificates: ca }),
      scope: WIN32_SCOPE,
      timeoutMs: 2000,
      retryDelayMs: 20,
    });
    container = await freshContainer('w32steps');
  });
  afterAll(async () => {
    await emu?.stop();
    await container?.deleteIfExists();
  });
  beforeEach(() => emu.admin.reset());

  async function untilReady(productId: string): Promise<void> {
    await eventually(`${productId} ready`, async () => {
      const state = await draftState(client, productId);
      if (state.errors.length) throw new Error(JSON.stringify(state.errors));
      return state.isReady;
    });
  }

  it('reads the draft: a view without URLs for the orchestration, the whole draft to keep aside', async () => {
    const { view, snapshot } = await readDraft(client, MSI);
    expect(view).toMatchObject({ isReady: true, languages: ['en-us', 'de-de'], packageCount: 1, errors: [] });
    expect(view.ongoingSubmissionId).toBeUndefined();
    expect(JSON.stringify(view)).not.toMatch(/https?:/);
    expect(snapshot.packages[0]?.packageUrl).toMatch(/^https:\/\//);
    expect(snapshot.assets.map((a) => a.language)).toEqual(['en-us', 'de-de']);
    expect((await readDraft(client, WIN32_SEED_IDS.busyApp)).view.ongoingSubmissionId).toBe(
      WIN32_SEED_IDS.busyAppOngoingSubmission,
    );
  });

  it('confirms a packages commit that answered an error after it had started', async () => {
    const url = await hostedInstaller(container, 'p/1/a.msi', msiOf('a'));
    await putPackages(client, MSI, [msiPackage(url) as never]);
    await emu.admin.fault({
      match: { server: 'win32', method: 'POST', path: '**/packages/commit' },
      status: 500,
      after: true,
    });
    const ids = await commitPackagesOrConfirm(client, MSI);
    expect(ids.length).toBeGreaterThan(0);
    await untilReady(MSI);
    expect((await client.getPackages(MSI)).value[0]?.packageUrl).toBe(url);
  });

  it('says why a change was refused: modules not ready (retriable), or a submission in progress', async () => {
    await emu.win32.admin.configure({ moduleProcessingMs: 60_000 });
    try {
      await change(client, MSI, () => client.patchMetadata(MSI, { listings: { language: 'en-us', whatsNew: 'a' } }));
      const busy = await change(client, MSI, () =>
        client.patchMetadata(MSI, { listings: { language: 'en-us', whatsNew: 'b' } }),
      ).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(StoreRequestError);
      expect(busy).toMatchObject({ code: 'ModulesNotReady', retriable: true });
    } finally {
      await emu.win32.admin.configure(FAST_WIN32);
    }
    const ongoing = await change(client, WIN32_SEED_IDS.busyApp, () =>
      client.patchMetadata(WIN32_SEED_IDS.busyApp, { listings: { language: 'en-us', whatsNew: 'c' } }),
    ).catch((e: unknown) => e);
    expect(ongoing).toMatchObject({
      code: SUBMISSION_IN_PROGRESS,
      ongoingSubmissionId: WIN32_SEED_IDS.busyAppOngoingSubmission,
    });
  });

  it("replaces a language's screenshots, keeps its logos, and puts them back from the snapshot", async () => {
    const { snapshot } = await readDraft(client, MSI);
    await replaceImages(client, MSI, { language: 'en-us', screenshots: [pngOf(1280, 720), pngOf(1280, 800)] });
    await untilReady(MSI);
    const after = (await client.getListingAssets(MSI, ['en-us'])).value[0]!;
    const before = snapshot.assets.find((a) => a.language === 'en-us')!;
    expect(after.screenshots.map((s) => s.imageSize)).toEqual([
      { width: 1280, height: 720 },
      { width: 1280, height: 800 },
    ]);
    expect(after.storeLogos).toEqual(before.storeLogos);
    // Replaced images are gone from the Store: they come back as new assets, fetched from their public URLs.
    await restoreImages(client, MSI, before, ['screenshots']);
    await untilReady(MSI);
    const restored = (await client.getListingAssets(MSI, ['en-us'])).value[0]!;
    expect(restored.screenshots.map((s) => s.imageSize)).toEqual(before.screenshots.map((s) => s.imageSize));
    expect(restored.storeLogos).toEqual(before.storeLogos);
  });

  it('adopts the submission a submit made before it answered 503, and never one that was there before', async () => {
    await emu.admin.fault({ match: { server: 'win32', method: 'POST', path: '**/submit' }, status: 503, after: true });
    const adopted = await submitOrAdopt(client, MSI, undefined);
    expect(adopted.adopted).toBe(true);
    expect((await draftState(client, MSI)).ongoingSubmissionId).toBe(adopted.submissionId);

    const theirs = await submitOrAdopt(client, WIN32_SEED_IDS.busyApp, WIN32_SEED_IDS.busyAppOngoingSubmission).catch(
      (e: unknown) => e,
    );
    expect(theirs).toMatchObject({ code: SUBMISSION_IN_PROGRESS });

    await emu.admin.fault({ match: { server: 'win32', method: 'POST', path: '**/submit' }, status: 503 });
    const other = WIN32_SEED_IDS.exeApp;
    const refused = await submitOrAdopt(client, other, undefined).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503, retriable: true });
    const made = await submitOrAdopt(client, other, undefined);
    expect(made.adopted).toBe(false);
    const poll = await submissionStatus(client, other, made.submissionId);
    expect(['UNKNOWN', 'INPROGRESS', 'PUBLISHED']).toContain(poll.publishingStatus);
  });
});

describe('win32 decisions', () => {
  it('plans packages, then modules, then each language (listing, images), then removals', () => {
    const plan = planChanges(
      {
        submission: {
          packages: [{ fileName: 'a.msi' }],
          availability: { markets: ['US'] },
          listings: { 'fr-fr': { description: 'x' }, 'en-us': { whatsNew: 'y' } },
          listingAssets: { 'de-de': { screenshots: [{ fileName: 's.png' }] } },
          listingsToRemove: ['ja-jp', 'it-it'],
        },
      },
      ['en-us', 'de-de', 'ja-jp'],
    );
    expect(plan.map(describeChange)).toEqual([
      'packages',
      'properties and availability',
      'images de-de',
      'listing en-us',
      'new listing fr-fr',
      'removal of listings ja-jp',
    ]);
    expect(
      planChanges({ submission: { listings: { 'en-us': { whatsNew: 'z' } } } }, ['en-us']).map(describeChange),
    ).toEqual(['listing en-us']);
  });

  it('judges a submission status: UNKNOWN waits, INPROGRESS ends "commit", PUBLISHED ends both, FAILED fails', () => {
    const j = (
      publishingStatus: 'INPROGRESS' | 'PUBLISHED' | 'FAILED' | 'UNKNOWN',
      hasFailed = false,
      waitFor: 'commit' | 'published' = 'published',
    ) => judgeWin32Status({ publishingStatus, hasFailed }, waitFor).verdict;
    expect([
      j('UNKNOWN', false, 'commit'),
      j('INPROGRESS', false, 'commit'),
      j('INPROGRESS'),
      j('PUBLISHED'),
      j('FAILED'),
      j('INPROGRESS', true),
    ]).toEqual(['wait', 'done', 'wait', 'done', 'failed', 'failed']);
  });
});
