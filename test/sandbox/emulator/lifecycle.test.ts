import { SEED_IDS } from '../../../sandbox/emulator';
import { appxPackage } from '../../helpers/zips';
import { type Loose, makeZip, upload, emulatorPerFile } from './harness';

const APP = SEED_IDS.demoApp;
const NEW_PACKAGE = 'Packages/ContosoDemo_2.0.0.0_x64.msix';
/** A real package of the demo app's identity, a version above the published 1.0.0.0. */
const PKG = appxPackage({
  name: 'Contoso.Demo',
  publisher: 'CN=Contoso Ltd.',
  version: '2.0.0.0',
  architecture: 'x64',
});
const NEW_IMAGE = 'Images/en-us/screenshot2.png';
const FINAL = (s: string): boolean => s === 'Published' || s.endsWith('Failed') || s === 'PendingCommit';

describe('Store API emulator: commit and the status lifecycle', () => {
  const the = emulatorPerFile();

  /** A new app submission with one new package and one new screenshot, both PendingUpload. */
  async function prepared(
    mode: 'Immediate' | 'Manual' | 'SpecificDate' = 'Immediate',
    date?: string,
  ): Promise<{ path: string; sub: Loose }> {
    const sub = (await the.api.post(`applications/${APP}/submissions`)).body;
    const path = `applications/${APP}/submissions/${sub.id}`;
    const listings = sub.listings;
    listings['en-us'].baseListing.images.push({
      fileName: NEW_IMAGE,
      fileStatus: 'PendingUpload',
      imageType: 'Screenshot',
      description: 'New',
    });
    const [old, ...others] = sub.applicationPackages;
    const put = await the.api.put(path, {
      ...sub,
      targetPublishMode: mode,
      targetPublishDate: date ?? null,
      listings,
      applicationPackages: [
        { ...old, fileStatus: 'PendingDelete' },
        ...others,
        { fileName: NEW_PACKAGE, fileStatus: 'PendingUpload' },
      ],
    });
    expect(put.status).toBe(200);
    return { path, sub: put.body };
  }

  it('goes from commit to Published through every status, settling the files', async () => {
    const { path, sub } = await prepared();
    await upload(sub.fileUploadUrl, await makeZip({ [NEW_PACKAGE]: PKG, [NEW_IMAGE]: 'png', 'extra/ignored.txt': '' }));
    const commit = await the.api.post(`${path}/commit`);
    expect([commit.status, commit.body]).toEqual([202, { status: 'CommitStarted' }]);
    const end = await the.api.waitForStatus(path, FINAL);
    expect(end).toEqual({
      status: 'Published',
      statusDetails: {
        errors: [],
        warnings: [{ code: 'SalesUnsupportedWarning', details: expect.stringContaining('sales resource') }],
        certificationReports: [],
      },
    });

    const state = await the.emulator.admin.state();
    const history = state.submissions.find((s) => s.id === sub.id)?.statusHistory.map((h) => h.status);
    expect(history).toEqual([
      'PendingCommit',
      'CommitStarted',
      'PreProcessing',
      'Certification',
      'Release',
      'PendingPublication',
      'Publishing',
      'Published',
    ]);
    expect(state.submissions.find((s) => s.id === sub.id)?.lastZipCheck).toMatchObject({ result: 'ok', entries: 3 });

    const app = (await the.api.get(`applications/${APP}`)).body;
    expect(app.lastPublishedApplicationSubmission.id).toBe(sub.id);
    expect(app.pendingApplicationSubmission).toBeUndefined();
    const published = (await the.api.get(path)).body;
    expect(published.applicationPackages.map((p: Loose) => [p.fileName, p.fileStatus])).toEqual([
      ['Packages/ContosoDemo_1.0.0.0_arm64.msix', 'Uploaded'],
      [NEW_PACKAGE, 'Uploaded'],
    ]);
    const added = published.applicationPackages[1];
    // Read from the package's manifest, as the Store fills them in.
    expect(added).toMatchObject({
      id: expect.stringMatching(/^\d{19}$/),
      version: '2.0.0.0',
      architecture: 'X64',
      languages: ['en-us'],
      capabilities: ['internetClient', 'runFullTrust'],
      targetDeviceFamilies: ['Windows.Desktop min version 10.0.17763.0'],
    });
    expect(published.listings['en-us'].baseListing.images.at(-1)).toMatchObject({
      fileName: NEW_IMAGE,
      fileStatus: 'Uploaded',
    });

    // The next submission clones this one.
    const next = (await the.api.post(`applications/${APP}/submissions`)).body;
    expect(next.applicationPackages.map((p: Loose) => p.fileName)).toEqual(
      published.applicationPackages.map((p: Loose) => p.fileName),
    );
  });

  it('fails the commit with MissingFiles when a PendingUpload file is not in the zip', async () => {
    const { path, sub } = await prepared();
    await upload(sub.fileUploadUrl, await makeZip({ [NEW_PACKAGE]: PKG }));
    await the.api.post(`${path}/commit`);
    const end = await the.api.waitForStatus(path, FINAL);
    expect(end.status).toBe('CommitFailed');
    expect(end.statusDetails.errors).toEqual([{ code: 'MissingFiles', details: expect.stringContaining(NEW_IMAGE) }]);
    expect(end.statusDetails.errors[0].details).not.toContain(NEW_PACKAGE);
    // Failed is final: no more changes, and the app keeps it as its pending submission.
    expect((await the.api.put(path, {})).status).toBe(409);
    expect((await the.api.get(`applications/${APP}`)).body.pendingApplicationSubmission.id).toBe(sub.id);
  });

  it('fails the commit with MissingFiles when nothing was uploaded, and passes when nothing is PendingUpload', async () => {
    const { path } = await prepared();
    await the.api.post(`${path}/commit`);
    const end = await the.api.waitForStatus(path, FINAL);
    expect(end.status).toBe('CommitFailed');
    expect(end.statusDetails.errors[0].code).toBe('MissingFiles');

    await the.emulator.admin.reset();
    const plain = (await the.api.post(`inappproducts/${SEED_IDS.demoAddOn}/submissions`)).body;
    const addOnPath = `inappproducts/${SEED_IDS.demoAddOn}/submissions/${plain.id}`;
    await the.api.post(`${addOnPath}/commit`);
    expect((await the.api.waitForStatus(addOnPath, FINAL)).status).toBe('Published');
  });

  it('fails the commit with InvalidArchive when the upload is not a zip', async () => {
    const { path, sub } = await prepared();
    await upload(sub.fileUploadUrl, Buffer.from('this is not a zip archive at all, just some text'));
    await the.api.post(`${path}/commit`);
    const end = await the.api.waitForStatus(path, FINAL);
    expect(end.status).toBe('CommitFailed');
    expect(end.statusDetails.errors).toEqual([{ code: 'InvalidArchive', details: expect.any(String) }]);
  });

  it('reads only the central directory of the zip, with a few range reads', async () => {
    const big = Buffer.from(new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 7919) % 251));
    const { path, sub } = await prepared();
    const bigPackage = appxPackage({ version: '2.0.0.0', payload: [{ name: 'big.bin', data: big }] });
    await upload(sub.fileUploadUrl, await makeZip({ [NEW_PACKAGE]: bigPackage, [NEW_IMAGE]: 'png' }));
    await the.api.post(`${path}/commit`);
    expect((await the.api.waitForStatus(path, FINAL)).status).toBe('Published');
    const check = (await the.emulator.admin.state()).submissions.find((s) => s.id === sub.id)?.lastZipCheck;
    expect(check?.rangeReads).toBeLessThanOrEqual(4);
  });

  it('waits in Release when targetPublishMode is Manual until published from Partner Center', async () => {
    const { path, sub } = await prepared('Manual');
    await upload(sub.fileUploadUrl, await makeZip({ [NEW_PACKAGE]: PKG, [NEW_IMAGE]: 'png' }));
    await the.api.post(`${path}/commit`);
    await the.api.waitForStatus(path, (s) => s === 'Release');
    await new Promise((r) => setTimeout(r, 200));
    expect((await the.api.get(`${path}/status`)).body.status).toBe('Release');
    await the.emulator.admin.publish(sub.id);
    expect((await the.api.waitForStatus(path, FINAL)).status).toBe('Published');
  });

  it('waits in Release until the date when targetPublishMode is SpecificDate', async () => {
    const date = new Date(Date.now() + 1500).toISOString();
    const { path, sub } = await prepared('SpecificDate', date);
    await upload(sub.fileUploadUrl, await makeZip({ [NEW_PACKAGE]: PKG, [NEW_IMAGE]: 'png' }));
    await the.api.post(`${path}/commit`);
    // Judged from the status history, not by watching Release go by: a busy machine may reach
    // Release late, or poll past it, but never publish before the date.
    expect((await the.api.waitForStatus(path, FINAL)).status).toBe('Published');
    const history = (await the.emulator.admin.state()).submissions.find((s) => s.id === sub.id)?.statusHistory ?? [];
    expect(history.map((h) => h.status)).toEqual(expect.arrayContaining(['Release', 'PendingPublication']));
    const released = history.find((h) => h.status === 'PendingPublication');
    expect(Date.parse(released?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(date));
  });

  it('ends the next commit of a product in CommitFailed with the injected codes', async () => {
    await the.emulator.admin.fault({
      kind: 'commitFailed',
      productId: APP,
      codes: ['InvalidParameterValue', 'IsInternalError'],
      details: 'injected',
    });
    const { path, sub } = await prepared();
    await upload(sub.fileUploadUrl, await makeZip({ [NEW_PACKAGE]: PKG, [NEW_IMAGE]: 'png' }));
    await the.api.post(`${path}/commit`);
    const end = await the.api.waitForStatus(path, FINAL);
    expect(end).toMatchObject({
      status: 'CommitFailed',
      statusDetails: {
        errors: [
          { code: 'InvalidParameterValue', details: 'injected' },
          { code: 'IsInternalError', details: 'injected' },
        ],
      },
    });
    expect(await the.emulator.admin.faults()).toEqual([]);
  });

  it('falls back from CommitStarted to PendingCommit, after which the submission can be changed and committed again', async () => {
    await the.emulator.admin.fault({ kind: 'commitFallback', productId: APP });
    const { path, sub } = await prepared();
    await upload(sub.fileUploadUrl, await makeZip({ [NEW_PACKAGE]: PKG, [NEW_IMAGE]: 'png' }));
    await the.api.post(`${path}/commit`);
    expect((await the.api.waitForStatus(path, FINAL)).status).toBe('PendingCommit');
    const history = (await the.emulator.admin.state()).submissions
      .find((s) => s.id === sub.id)
      ?.statusHistory.map((h) => h.status);
    expect(history).toEqual(['PendingCommit', 'CommitStarted', 'PendingCommit']);
    expect((await the.api.put(path, { ...sub, notesForCertification: 'again' })).status).toBe(200);
    await the.api.post(`${path}/commit`);
    expect((await the.api.waitForStatus(path, (s) => s === 'Published' || s.endsWith('Failed'))).status).toBe(
      'Published',
    );
  });

  it('fails certification with the injected codes and a certification report', async () => {
    await the.emulator.admin.fault({
      kind: 'certificationFailed',
      productId: SEED_IDS.demoFlight,
      codes: ['InvalidMicrosoftAgeRating'],
    });
    const flightPath = `applications/${APP}/flights/${SEED_IDS.demoFlight}/submissions`;
    const sub = (await the.api.post(flightPath)).body;
    await the.api.post(`${flightPath}/${sub.id}/commit`);
    const end = await the.api.waitForStatus(`${flightPath}/${sub.id}`, FINAL);
    expect(end.status).toBe('CertificationFailed');
    expect(end.statusDetails.errors).toEqual([{ code: 'InvalidMicrosoftAgeRating', details: expect.any(String) }]);
    expect(end.statusDetails.certificationReports).toEqual([
      { date: expect.any(String), reportUrl: expect.stringMatching(/^https:\/\//) },
    ]);
  });

  it('keeps a submission stuck in a status until the fault is removed', async () => {
    const { path, sub } = await prepared();
    const fault = await the.emulator.admin.fault({ kind: 'stuck', submissionId: sub.id, status: 'Certification' });
    await upload(sub.fileUploadUrl, await makeZip({ [NEW_PACKAGE]: PKG, [NEW_IMAGE]: 'png' }));
    await the.api.post(`${path}/commit`);
    await the.api.waitForStatus(path, (s) => s === 'Certification');
    await new Promise((r) => setTimeout(r, 250));
    expect((await the.api.get(`${path}/status`)).body.status).toBe('Certification');
    await the.emulator.admin.removeFault(fault.id);
    expect((await the.api.waitForStatus(path, FINAL)).status).toBe('Published');
  });

  it('refuses to delete a submission while it is processed (409), and lets it go once it failed', async () => {
    const { path, sub } = await prepared();
    // Held in Certification, so the delete lands there however slow the machine; released
    // after the refusal, into the certification failure the fault asks for.
    const held = await the.emulator.admin.fault({ kind: 'stuck', submissionId: sub.id, status: 'Certification' });
    await the.emulator.admin.fault({ kind: 'certificationFailed', productId: APP });
    await upload(sub.fileUploadUrl, await makeZip({ [NEW_PACKAGE]: PKG, [NEW_IMAGE]: 'png' }));
    await the.api.post(`${path}/commit`);
    await the.api.waitForStatus(path, (s) => s === 'Certification');
    const refused = await the.api.delete(path);
    expect([refused.status, refused.body]).toEqual([
      409,
      expect.objectContaining({ code: 'InvalidState', message: 'Submission in its current state cannot be deleted' }),
    ]);
    await the.emulator.admin.removeFault(held.id);
    expect((await the.api.waitForStatus(path, FINAL)).status).toBe('CertificationFailed');
    expect((await the.api.delete(path)).status).toBe(204);
    const state = await the.emulator.admin.state();
    expect(state.submissions.find((s) => s.id === sub.id)).toBeUndefined();
    expect(state.applications.find((a) => a.id === APP)?.lastPublishedApplicationSubmission).toMatchObject({
      id: SEED_IDS.demoAppPublishedSubmission,
    });
  });
});
