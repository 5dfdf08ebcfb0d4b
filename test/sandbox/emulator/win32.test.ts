import { BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import { type RunningEmulator, WIN32_SCOPE, WIN32_SEED_IDS, fetchToken } from '../../../sandbox/emulator';
import { freshContainer } from '../../helpers/azurite';
import { exeOf, msiOf, pngOf } from '../../helpers/files';
import { Api, type Loose, start } from './harness';
import { FAST_WIN32, Win32Api, hostedInstaller, msiPackage } from './win32Harness';

const MSI = WIN32_SEED_IDS.msiApp;
const EXE = WIN32_SEED_IDS.exeApp;
const BUSY = WIN32_SEED_IDS.busyApp;

describe('Store emulator, MSI/EXE submission API', () => {
  let emulator: RunningEmulator;
  let api: Win32Api;
  let container: ContainerClient;

  beforeAll(async () => {
    emulator = await start({ win32: { config: FAST_WIN32 } });
    api = await Win32Api.connect(emulator);
    container = await freshContainer('w32');
  });
  afterAll(async () => {
    await emulator?.stop();
    await container?.deleteIfExists();
  });
  beforeEach(() => emulator.admin.reset());

  describe('authentication and the seller header', () => {
    it('answers a call without a token, or with a token for the v1.0 API, with the gateway 401', async () => {
      const v1Token = await fetchToken(emulator);
      for (const token of ['', v1Token]) {
        const res = await new Win32Api(emulator, token).get(`${MSI}/status`);
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ statusCode: 401, message: expect.stringMatching(/^Unauthorized/) });
      }
      const ok = await api.get(`${MSI}/status`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('refuses a token of this API on the v1.0 API', async () => {
      const res = await new Api(emulator, api.token).get('applications');
      expect(res.status).toBe(401);
    });

    it('needs the account seller id in X-Seller-Account-Id', async () => {
      for (const seller of [null, '1']) {
        const res = await new Win32Api(emulator, api.token, seller).get(`${MSI}/status`);
        expect(res.status).toBe(401);
        expect(res.body.message).toMatch(/X-Seller-Account-Id/);
      }
    });

    it('refuses an app never added to Partner Center (401) and one without the Manager role (403)', async () => {
      const outsider = await emulator.admin.registerApp({ role: 'none' });
      const developer = await emulator.admin.registerApp({ role: 'Developer' });
      const tokenOf = (app: { clientId: string; clientSecret: string }): Promise<string> =>
        fetchToken({ ...emulator, ...app }, WIN32_SCOPE);
      const none = await new Win32Api(emulator, await tokenOf(outsider)).get(`${MSI}/status`);
      expect(none.status).toBe(401);
      const dev = await new Win32Api(emulator, await tokenOf(developer)).get(`${MSI}/status`);
      expect(dev.status).toBe(403);
      expect(dev.body).toEqual({ statusCode: 403, message: expect.stringMatching(/Manager/) });
    });

    it('answers 404 without a body for a product it does not know', async () => {
      const res = await api.get('00000000-0000-0000-0000-000000000000/status');
      expect(res.status).toBe(404);
      expect(res.text).toBe('');
    });
  });

  describe('the draft', () => {
    it('shows modules and packages in the wrapper the docs describe', async () => {
      const status = await api.get(`${MSI}/status`);
      expect(status.body).toEqual({
        isSuccess: true,
        errors: [],
        responseData: { isReady: true, ongoingSubmissionId: '' },
      });
      const packages = await api.get(`${MSI}/packages`);
      expect(packages.body.responseData.packages).toEqual([
        expect.objectContaining({
          packageType: 'msi',
          architectures: ['X64'],
          packageId: expect.stringMatching(/^\d+$/),
        }),
      ]);
      const one = await api.get(`${MSI}/packages/${packages.body.responseData.packages[0].packageId}`);
      expect(one.body.responseData.packages).toHaveLength(1);
      const metadata = await api.get(`${MSI}/metadata?languages=en-us&includelanguagelist=true`);
      expect(metadata.body.responseData.listings.map((l: Loose) => l.language)).toEqual(['en-us']);
      expect(metadata.body.responseData.listingLanguages).toEqual([
        { language: 'en-us', isComplete: true },
        { language: 'de-de', isComplete: true },
      ]);
      expect(metadata.body.responseData.properties.category).toBe('DeveloperTools');
      const listings = await api.get(`${MSI}/metadata/listings`);
      expect(Object.keys(listings.body.responseData)).toEqual(['listings']);
      const bad = await api.get(`${MSI}/metadata/pricing`);
      expect(bad.status).toBe(400);
      expect(bad.body.isSuccess).toBe(false);
    });

    it('patches one listing field and keeps the rest; a full update resets what it does not give', async () => {
      const patch = await api.call('PATCH', `${MSI}/metadata`, { listings: { language: 'en-us', whatsNew: 'New.' } });
      expect(patch.body).toMatchObject({ isSuccess: true, responseData: { ongoingSubmissionId: '' } });
      await api.untilReady(MSI);
      let en = (await api.get(`${MSI}/metadata/listings?languages=en-us`)).body.responseData.listings[0];
      expect(en.whatsNew).toBe('New.');
      expect(en.description).toMatch(/toolbox/);

      const put = await api.call('PUT', `${MSI}/metadata`, {
        listings: { language: 'en-us', description: 'Only this.', additionalLicenseTerms: 'Terms.' },
      });
      expect(put.body.isSuccess).toBe(true);
      await api.untilReady(MSI);
      en = (await api.get(`${MSI}/metadata/listings?languages=en-us`)).body.responseData.listings[0];
      expect(en).toMatchObject({ description: 'Only this.', whatsNew: '', productFeatures: [], copyright: '' });
    });

    it('refuses a change while the modules are busy, with isSuccess false', async () => {
      await emulator.win32.admin.configure({ moduleProcessingMs: 60_000 });
      await api.call('PATCH', `${MSI}/metadata`, { listings: { language: 'en-us', whatsNew: 'One.' } });
      const second = await api.call('PATCH', `${MSI}/metadata`, { listings: { language: 'en-us', whatsNew: 'Two.' } });
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ isSuccess: false, errors: [{ code: 'modulesnotready' }] });
      await emulator.win32.admin.configure(FAST_WIN32);
    });

    it('checks fields against the documented rules and names each problem', async () => {
      const res = await api.call('PATCH', `${MSI}/metadata`, {
        listings: {
          language: 'en-us',
          searchTerms: Array.from({ length: 8 }, (_, i) => `t${i}`),
          copyright: 'x'.repeat(201),
        },
        properties: { category: 'DeveloperTools', subcategory: 'Fiction' },
        availability: { pricing: 'PAID', freeTrial: '' },
      });
      expect(res.status).toBe(400);
      const messages = res.body.errors.map((e: Loose) => `${e.target}: ${e.message}`).join('\n');
      expect(messages).toMatch(/listings: .*searchTerms: Up to 7/);
      expect(messages).toMatch(/listings: .*copyright: Character limit = 200/);
      expect(messages).toMatch(/properties: .*'Fiction' is not a sub-category of DeveloperTools/);
      expect(messages).toMatch(/availability: .*freeTrial is required when pricing is PAID/);
    });

    it('adds a listing language with listingsToAdd; it is incomplete until it has text and images', async () => {
      const res = await api.call('PATCH', `${MSI}/metadata`, {
        listingsToAdd: ['fr-fr'],
        listings: { language: 'fr-fr', description: 'Les outils.' },
      });
      expect(res.body.isSuccess).toBe(true);
      await api.untilReady(MSI);
      const langs = (await api.get(`${MSI}/metadata?includelanguagelist=true`)).body.responseData.listingLanguages;
      expect(langs).toContainEqual({ language: 'fr-fr', isComplete: false });
      const unknown = await api.call('PATCH', `${MSI}/metadata`, { listings: { language: 'it-it', description: 'x' } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors[0].message).toMatch(/add the language with listingsToAdd/);
    });
  });

  describe('packages by URL', () => {
    it('downloads each new package URL after the commit, then takes the new set', async () => {
      const url = await hostedInstaller(container, 'tools/1.3.0/ContosoTools-1.3.0-x64.msi', msiOf('a'));
      const put = await api.call('PUT', `${MSI}/packages`, { packages: [msiPackage(url)] });
      expect(put.body.isSuccess).toBe(true);
      const staged = await api.get(`${MSI}/status`);
      expect(staged.body.responseData.isReady).toBe(false);
      expect(staged.body.errors[0]).toMatchObject({ code: 'warning', target: 'packages' });
      const commit = await api.call('POST', `${MSI}/packages/commit`);
      expect(commit.body).toMatchObject({
        isSuccess: true,
        responseData: { pollingUrl: `/submission/v1/product/${MSI}/status` },
      });
      const ready = await api.untilReady(MSI, true);
      expect(ready.errors).toEqual([]);
      const packages = (await api.get(`${MSI}/packages`)).body.responseData.packages;
      expect(packages).toHaveLength(1);
      expect(packages[0].packageUrl).toBe(url);
      const state = await emulator.win32.admin.state();
      const record = state.downloads.find((d: Loose) => d.url.endsWith('ContosoTools-1.3.0-x64.msi'));
      expect(record).toMatchObject({ ok: true, status: 200, bytes: 4096, head: 'd0cf11e0a1b11ae1' });
      expect(record.url).not.toMatch(/sig=/);
    });

    it('fails the upload with packageuploaderror when the SAS has expired, is signed wrong, or the blob is missing', async () => {
      const good = await hostedInstaller(container, 'tools/x/expired.msi', msiOf('b'), { expiresInSeconds: -60 });
      const tampered = (await hostedInstaller(container, 'tools/x/tampered.msi', msiOf('c'))).replace(
        /sig=[^&]+/,
        'sig=AAAA',
      );
      const missing = (await hostedInstaller(container, 'tools/x/gone.msi', msiOf('d'))).replace(
        'gone.msi',
        'never.msi',
      );
      for (const url of [good, tampered, missing]) {
        await api.call('PUT', `${MSI}/packages`, { packages: [msiPackage(url)] });
        await api.call('POST', `${MSI}/packages/commit`);
        const status = await api.untilReady(MSI, true);
        expect(status.responseData.isReady).toBe(false);
        expect(status.errors).toEqual([
          expect.objectContaining({
            code: 'packageuploaderror',
            target: 'packages',
            message: expect.stringMatching(/HTTP 40[34]/),
          }),
        ]);
        expect(JSON.stringify(status)).not.toMatch(/sig=/);
        // The draft keeps its committed packages.
        const submitted = await api.call('POST', `${MSI}/submit`);
        expect(submitted.body.isSuccess).toBe(false);
      }
    });

    it('refuses a URL that is not https (but for loopback), two architectures, and exe packages without their fields', async () => {
      const res = await api.call('PUT', `${MSI}/packages`, {
        packages: [
          msiPackage('http://downloads.contoso.example/1.0/setup.msi'),
          msiPackage('https://downloads.contoso.example/1.0/setup.msi', { architectures: ['X64', 'X86'] }),
          msiPackage('https://downloads.contoso.example/1.0/setup.exe', { packageType: 'exe', isSilentInstall: false }),
          msiPackage('https://downloads.contoso.example/1.0/setup2.msi', { languages: ['xx-yy'] }),
        ],
      });
      expect(res.status).toBe(400);
      const messages = res.body.errors.map((e: Loose) => e.message).join('\n');
      expect(messages).toMatch(/packages\[0\]\.packageUrl: Package URL should begin with https:\/\//);
      expect(messages).toMatch(/packages\[1\]\.architectures: Should contain a single architecture/);
      expect(messages).toMatch(/packages\[2\]\.installerParameters is required when isSilentInstall is false/);
      expect(messages).toMatch(/packages\[2\]\.genericDocUrl is required for packageType exe/);
      expect(messages).toMatch(/packages\[3\]\.languages: 'xx-yy'/);
    });

    it('does not download again a URL it holds a copy of', async () => {
      const name = 'player/4.1/ContosoPlayerSetup-4.1.exe';
      const url = await hostedInstaller(container, name, exeOf('first'));
      const exe = {
        packageType: 'exe',
        isSilentInstall: false,
        installerParameters: '/S',
        genericDocUrl: 'https://contoso.example/codes',
      };
      await api.call('PUT', `${EXE}/packages`, { packages: [msiPackage(url, exe)] });
      await api.call('POST', `${EXE}/packages/commit`);
      expect((await api.untilReady(EXE, true)).errors).toEqual([]);
      // Keep the package, add an MSI: only the new URL is fetched (the old SAS may well have expired by then).
      await container.getBlockBlobClient(name).delete();
      const current = (await api.get(`${EXE}/packages`)).body.responseData.packages;
      const msi = await hostedInstaller(container, 'player/4.1/ContosoPlayer-4.1-arm64.msi', msiOf('arm'));
      await api.call('PUT', `${EXE}/packages`, {
        packages: [...current, msiPackage(msi, { architectures: ['Arm64'] })],
      });
      await api.call('POST', `${EXE}/packages/commit`);
      expect((await api.untilReady(EXE, true)).errors).toEqual([]);
      const fetched = (await emulator.win32.admin.state()).downloads.map((d: Loose) => d.url.split('/').pop());
      expect(fetched).toEqual(['ContosoPlayerSetup-4.1.exe', 'ContosoPlayer-4.1-arm64.msi']);
    });
  });

  describe('listing assets', () => {
    async function createAndUpload(language: string, screenshots: Buffer[], logos: Buffer[]): Promise<Loose> {
      const created = await api.call('POST', `${MSI}/listings/assets/create`, {
        language,
        createAssetRequest: { Screenshot: screenshots.length, Logo: logos.length },
      });
      expect(created.body.isSuccess).toBe(true);
      const assets = created.body.responseData.listingAssets;
      const files = [
        ...assets.screenshots.map((a: Loose, i: number) => [a, screenshots[i]]),
        ...assets.storeLogos.map((a: Loose, i: number) => [a, logos[i]]),
      ];
      for (const [a, data] of files) {
        expect(a.httpMethod).toBe('PUT');
        await new BlockBlobClient(a.primaryAssetUploadUrl.replace(/\+/g, '%2B')).upload(data, data.length, {
          blobHTTPHeaders: { blobContentType: 'image/png' },
        });
      }
      return assets;
    }

    it('replaces the screenshots of a language with uploaded ones and keeps its logos', async () => {
      const before = (await api.get(`${MSI}/listings/assets?languages=en-us`)).body.responseData.listingAssets[0];
      const assets = await createAndUpload('en-us', [pngOf(1920, 1080)], []);
      const commit = await api.call('PUT', `${MSI}/listings/assets/commit`, {
        listingAssets: {
          language: 'en-us',
          storeLogos: before.storeLogos.map((l: Loose) => ({ id: l.id, assetUrl: l.assetUrl })),
          screenshots: [{ id: assets.screenshots[0].id, assetUrl: assets.screenshots[0].primaryAssetUploadUrl }],
        },
      });
      expect(commit.body.isSuccess).toBe(true);
      await api.untilReady(MSI);
      const after = (await api.get(`${MSI}/listings/assets?languages=en-us`)).body.responseData.listingAssets[0];
      expect(after.storeLogos).toEqual(before.storeLogos);
      expect(after.screenshots).toEqual([
        {
          id: assets.screenshots[0].id,
          assetUrl: expect.stringContaining('/_emulator/win32/assets/'),
          imageSize: { width: 1920, height: 1080 },
        },
      ]);
      const image = await fetch(after.screenshots[0].assetUrl);
      expect(image.status).toBe(200);
    });

    it('refuses an asset that was not uploaded, is not a PNG, or a logo that is neither 1:1 nor 2:3', async () => {
      const created = await api.call('POST', `${MSI}/listings/assets/create`, {
        language: 'en-us',
        createAssetRequest: { Screenshot: 2, Logo: 1 },
      });
      const { screenshots, storeLogos } = created.body.responseData.listingAssets;
      await new BlockBlobClient(screenshots[1].primaryAssetUploadUrl.replace(/\+/g, '%2B')).upload(
        Buffer.from('GIF89a...'),
        9,
      );
      await new BlockBlobClient(storeLogos[0].secondaryAssetUploadUrl.replace(/\+/g, '%2B')).upload(
        pngOf(300, 200),
        100,
      );
      const res = await api.call('PUT', `${MSI}/listings/assets/commit`, {
        listingAssets: {
          language: 'en-us',
          screenshots: screenshots.map((s: Loose) => ({ id: s.id, assetUrl: s.primaryAssetUploadUrl })),
          storeLogos: [{ id: storeLogos[0].id, assetUrl: storeLogos[0].secondaryAssetUploadUrl }],
        },
      });
      expect(res.status).toBe(400);
      const messages = res.body.errors.map((e: Loose) => e.message).join('\n');
      expect(messages).toMatch(/screenshots\[0\]: nothing was uploaded/);
      expect(messages).toMatch(/screenshots\[1\]: the uploaded file is not a PNG/);
      expect(messages).toMatch(/storeLogos\[0\]: a store logo is 1:1 box art or 2:3 poster art \(got 300x200\)/);
    });
  });

  describe('submissions', () => {
    it('submits the draft: UNKNOWN, INPROGRESS, then PUBLISHED, refusing changes meanwhile', async () => {
      await emulator.win32.admin.fault({ kind: 'stuck', productId: MSI, status: 'INPROGRESS' });
      const submitted = await api.call('POST', `${MSI}/submit`);
      expect(submitted.body).toMatchObject({
        isSuccess: true,
        responseData: { submissionId: expect.stringMatching(/^\d{19}$/) },
      });
      const id = submitted.body.responseData.submissionId;
      expect(submitted.body.responseData.pollingUrl).toBe(`/submission/v1/product/${MSI}/submission/${id}/status`);
      const first = await api.get(`${MSI}/submission/${id}/status`);
      expect(['UNKNOWN', 'INPROGRESS']).toContain(first.body.responseData.publishingStatus);
      await api.untilPublishingStatus(MSI, id, ['INPROGRESS']);
      expect((await api.get(`${MSI}/status`)).body.responseData.ongoingSubmissionId).toBe(id);

      const patch = await api.call('PATCH', `${MSI}/metadata`, { listings: { language: 'en-us', whatsNew: 'x' } });
      expect(patch.status).toBe(200);
      expect(patch.body).toMatchObject({
        isSuccess: false,
        errors: [{ code: 'submissioninprogress' }],
        responseData: { ongoingSubmissionId: id },
      });
      const again = await api.call('POST', `${MSI}/submit`);
      expect(again.body).toMatchObject({ isSuccess: false, responseData: { ongoingSubmissionId: id } });

      await emulator.win32.admin.clearFaults();
      const done = await api.untilPublishingStatus(MSI, id, ['PUBLISHED', 'FAILED']);
      expect(done.responseData).toEqual({ publishingStatus: 'PUBLISHED', hasFailed: false });
      expect((await api.get(`${MSI}/status`)).body.responseData.ongoingSubmissionId).toBe('');
      const other = await api.get(`${EXE}/submission/${id}/status`);
      expect(other.status).toBe(404);
    });

    it('ends a submission FAILED with hasFailed and its errors when certification fails', async () => {
      await emulator.win32.admin.fault({
        kind: 'certificationFailed',
        productId: MSI,
        message: 'The installer is not signed.',
      });
      const id = (await api.call('POST', `${MSI}/submit`)).body.responseData.submissionId;
      const done = await api.untilPublishingStatus(MSI, id, ['PUBLISHED', 'FAILED']);
      expect(done).toMatchObject({
        responseData: { publishingStatus: 'FAILED', hasFailed: true },
        errors: [{ code: 'certificationfailed', message: 'The installer is not signed.' }],
      });
    });

    it('refuses to submit an incomplete draft and names what is missing', async () => {
      await api.call('PATCH', `${MSI}/metadata`, { listingsToAdd: ['fr-fr'] });
      await api.untilReady(MSI);
      const res = await api.call('POST', `${MSI}/submit`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        expect.objectContaining({
          target: 'listings',
          message: expect.stringMatching(/fr-fr listing is incomplete.*description.*screenshot.*logo/),
        }),
      ]);
    });

    it('seeds a product whose Partner Center submission stays in progress until completed', async () => {
      const status = (await api.get(`${BUSY}/status`)).body.responseData;
      expect(status.ongoingSubmissionId).toBe(WIN32_SEED_IDS.busyAppOngoingSubmission);
      const res = await api.call('PUT', `${BUSY}/packages`, {
        packages: [msiPackage('https://cdn.contoso.example/2.1/busy.msi')],
      });
      expect(res.body).toMatchObject({ isSuccess: false, errors: [{ code: 'submissioninprogress' }] });
      await emulator.win32.admin.complete(WIN32_SEED_IDS.busyAppOngoingSubmission);
      expect((await api.get(`${BUSY}/status`)).body.responseData.ongoingSubmissionId).toBe('');
    });

    it('lets a fault start a Partner Center submission right before a call, as a person racing a run would', async () => {
      await emulator.win32.admin.fault({
        kind: 'portalSubmission',
        productId: MSI,
        match: { method: 'PATCH', path: 'metadata' },
      });
      const status = await api.get(`${MSI}/status`);
      expect(status.body.responseData.ongoingSubmissionId).toBe('');
      const res = await api.call('PATCH', `${MSI}/metadata`, { listings: { language: 'en-us', whatsNew: 'x' } });
      expect(res.body).toMatchObject({ isSuccess: false, errors: [{ code: 'submissioninprogress' }] });
    });
  });

  describe('limits and faults', () => {
    it('answers 429 with Retry-After after the per-tenant limit', async () => {
      await emulator.win32.admin.configure({
        rateLimitEnabled: true,
        rateLimitPerMinute: 3,
        rateLimitWindowMs: 60_000,
      });
      try {
        const answers = [];
        for (let i = 0; i < 5; i++) answers.push(await api.get(`${MSI}/status`));
        expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
        expect(answers[3]!.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(answers[3]!.body).toEqual({
          statusCode: 429,
          message: expect.stringMatching(/Try again in \d+ seconds/),
        });
      } finally {
        await emulator.win32.admin.configure({ rateLimitEnabled: false });
      }
    });

    it('applies HTTP faults matched on the win32 server', async () => {
      await emulator.admin.fault({
        match: { server: 'win32', method: 'POST', path: 'submission/v1/product/*/submit' },
        status: 503,
      });
      const res = await api.call('POST', `${MSI}/submit`);
      expect(res.status).toBe(503);
      expect(
        (await emulator.admin.state()).requests.some((r) => r.server === 'win32' && r.path.endsWith('/submit')),
      ).toBe(true);
    });

    it('lists the package URL signatures it received among its secrets', async () => {
      const url = await hostedInstaller(container, 'tools/s/secret.msi', msiOf('s'));
      await api.call('PUT', `${MSI}/packages`, { packages: [msiPackage(url)] });
      const sig = decodeURIComponent(/sig=([^&]+)/.exec(url)![1]!);
      expect((await emulator.admin.secrets()).sasSignatures).toContain(sig);
    });
  });
});
