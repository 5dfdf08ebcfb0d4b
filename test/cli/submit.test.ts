/**
 * The CLI against the sandbox (Azurite, the Store emulator, the local Functions host running
 * the built app), run as CI runs it: `node dist/cli/main.js ...` in a child process, judged by
 * its exit code and its output.
 */
import { AccountSASPermissions, BlobServiceClient } from '@azure/storage-blob';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceIdFor } from '../../lib/instanceId';
import type { StatusDocument } from '../../lib/statusDocument';
import { SEED_IDS } from '../../sandbox/emulator';
import { freePort } from '../../sandbox/azurite';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { storeGet } from '../e2e/support';
import { goodZip, packageFor } from '../helpers/zips';
import { ensureCliBuilt, makeFolder, PNG, pngOf, runCliProcess, tempDir, type CliResult } from './helpers';

const APP = SEED_IDS.demoApp;
const PKG = 'Contoso.Demo_1.3.0.0_x64.msixupload';

let sandbox: TestSandbox;
let root: string;
/** A valid app zip, never uploaded by the tests that use it. */
let appZip: string;

beforeAll(async () => {
  ensureCliBuilt();
  sandbox = await startTestSandbox();
  root = tempDir('submit');
  appZip = join(root, 'app-spare.zip');
  const dir = makeFolder(root, 'app-spare', {
    'store.json': { target: { kind: 'app', applicationId: APP } },
    [PKG]: packageFor(PKG),
  });
  expect((await runCliProcess(['pack', dir, '-o', appZip])).code).toBe(0);
});
afterAll(async () => {
  await sandbox?.emulator.admin.clearFaults();
  await sandbox?.stop();
});

/** The CLI with the sandbox's storage (from the environment, as in CI) and Functions app. */
function cli(
  args: string[],
  functionsUrl = sandbox.host.url,
  storage = sandbox.azurite.connectionString,
): Promise<CliResult> {
  const key = sandbox.host.keys?.host.default;
  return runCliProcess(
    [...args, '--functions-url', functionsUrl, ...(key ? ['--function-key', key] : []), '--poll-interval', '100ms'],
    {
      SUBMISSIONS_STORAGE: storage,
      SUBMISSIONS_CONTAINER: sandbox.submissions.containerName,
    },
  );
}

/** pack + validate as separate commands, both exit 0; returns the zip. */
async function packAndValidate(name: string, files: Record<string, string | Buffer | object>): Promise<string> {
  const dir = makeFolder(root, name, files);
  const zip = join(root, `${name}.zip`);
  const packed = await runCliProcess(['pack', dir, '-o', zip]);
  expect(packed).toMatchObject({ code: 0, stderr: '' });
  const validated = await runCliProcess(['validate', zip]);
  expect(validated).toMatchObject({ code: 0, stderr: '' });
  return zip;
}

async function blobNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const b of sandbox.submissions.listBlobsFlat()) names.push(b.name);
  return names;
}

interface SubmitJson {
  instanceId: string;
  blob: { container: string; name: string; etag: string };
  exitCode: number;
  status: StatusDocument;
}

describe('store-submitter against the sandbox', () => {
  // The tests use different products (faults are scoped to theirs), so they run side by side.
  it.concurrent(
    'an app: pack → validate → submit → status, exit 0, Published with the listing from the folder',
    async () => {
      const zip = await packAndValidate('app-1.3.0', {
        'store.json': { target: { kind: 'app', applicationId: APP }, options: { waitFor: 'published' } },
        [PKG]: packageFor(PKG),
        'listings/en-us/releaseNotes.txt': 'Offline maps.\n',
        'listings/en-us/images/Screenshot/01.png': PNG,
      });
      const submitted = await cli(['submit', zip, '--json']);
      expect(submitted.code).toBe(0);
      const out = JSON.parse(submitted.stdout) as SubmitJson;
      expect(out.instanceId).toBe(instanceIdFor(sandbox.submissions.containerName, 'app-1.3.0.zip', out.blob.etag));
      expect(out.status).toMatchObject({
        status: 'Succeeded',
        storeStatus: 'Published',
        product: { kind: 'app', applicationId: APP },
      });
      // Progress went to stderr, so stdout stayed one JSON document.
      expect(submitted.stderr).toMatch(/Uploaded .*app-1\.3\.0\.zip/);
      expect(submitted.stderr).toMatch(/Succeeded {2}Succeeded +Store: Published/);
      // What the submission changes, printed before the commit: the new release notes and package.
      expect(submitted.stderr).toContain(
        `Changes against the published submission ${SEED_IDS.demoAppPublishedSubmission}:`,
      );
      expect(submitted.stderr).toContain(`[en-us] releaseNotes changed`);
      expect(submitted.stderr).toMatch(
        new RegExp(`added package ${PKG.replace(/\./g, '\\.')} \\(1\\.3\\.0\\.0, X64\\)`),
      );

      const published = await storeGet(sandbox, `applications/${APP}/submissions/${out.status.submissionId}`);
      const listing = (
        published.listings as Record<
          string,
          { baseListing: { releaseNotes: string; images: Array<{ fileName: string }> } }
        >
      )['en-us']!;
      expect(listing.baseListing.releaseNotes).toBe('Offline maps.');
      expect(listing.baseListing.images.map((i) => i.fileName)).toEqual(['listings/en-us/images/Screenshot/01.png']);
      expect(published.applicationPackages).toEqual(
        expect.arrayContaining([expect.objectContaining({ fileName: PKG, fileStatus: 'Uploaded' })]),
      );

      const byId = await cli(['status', out.instanceId, '--json']);
      expect(byId.code).toBe(0);
      expect(JSON.parse(byId.stdout)).toMatchObject({
        instanceId: out.instanceId,
        status: 'Succeeded',
        storeStatus: 'Published',
      });
      const byName = await cli(['status', 'app-1.3.0.zip']);
      expect(byName.code).toBe(0);
      expect(byName.stdout).toContain(`Run         ${out.instanceId}`);
      expect(byName.stdout).toContain('Status      Succeeded, phase Succeeded');
      expect(byName.stdout).toMatch(/commitSubmission +ok/);
      expect(byName.stdout).toContain('Preview\n  Changes against the published submission');
    },
  );

  it.concurrent(
    'a run that fails certification: exit 1, the Store error and the report link in the output',
    async () => {
      // Another app of the seed (its published submission still rolls out: the run finalizes that first).
      await sandbox.emulator.admin.fault({
        kind: 'certificationFailed',
        productId: SEED_IDS.rolloutApp,
        codes: ['InvalidMicrosoftAgeRating'],
        reportUrl: 'https://reports.example/cert-1',
      });
      const failingZip = await packAndValidate('rollout-app', {
        'store.json': {
          target: { kind: 'app', applicationId: SEED_IDS.rolloutApp },
          options: { waitFor: 'published', existingRollout: 'finalize' },
        },
        [PKG]: packageFor(PKG, { name: 'Contoso.Gradual' }),
      });
      const failed = await cli(['submit', failingZip]);
      expect(failed.code).toBe(1);
      const lines = failed.stdout.split('\n');
      // One line per change of phase or Store status, the last one the failure.
      expect(lines.filter((l) => /^\d\d:\d\d:\d\d {2}Failed {4}/.test(l))).toEqual([
        expect.stringMatching(/Failed +Store: CertificationFailed$/),
      ]);
      expect(failed.stdout).toMatch(/^Failed: app 9NBLGGH4RLLT, submission \d+ \(Store: CertificationFailed\)\.$/m);
      expect(failed.stdout).toContain('Store error InvalidMicrosoftAgeRating');
      expect(failed.stdout).toContain('certification report');
      expect(failed.stdout).toContain('https://reports.example/cert-1');
    },
  );

  it.concurrent(
    'a flight by friendly name, uploaded with an account SAS URL: submit --no-wait returns at the start, status --wait follows it',
    async () => {
      const zip = await packAndValidate('flight-insiders', {
        'store.json': {
          target: {
            kind: 'flight',
            applicationId: APP,
            flight: { friendlyName: 'Insiders', groupIds: ['1152921504606962205'] },
          },
          options: { waitFor: 'published' },
        },
        [PKG]: packageFor(PKG),
      });
      // --account-url wins over the connection string in the environment; a SAS in it is never printed.
      const sasUrl = BlobServiceClient.fromConnectionString(sandbox.azurite.connectionString).generateAccountSasUrl(
        new Date(Date.now() + 3600_000),
        AccountSASPermissions.parse('rwlc'),
        'sco',
      );
      const signature = new URL(sasUrl).searchParams.get('sig')!;
      const started = await cli(['submit', zip, '--no-wait', '--json', '--account-url', sasUrl]);
      expect(started.code).toBe(0);
      expect(`${started.stdout}${started.stderr}`).not.toContain(signature);
      const { instanceId, started: fresh } = JSON.parse(started.stdout) as { instanceId: string; started: boolean };
      expect(typeof fresh).toBe('boolean');

      const followed = await cli(['status', 'flight-insiders.zip', '--wait', '--json']);
      expect(followed.code).toBe(0);
      const doc = (JSON.parse(followed.stdout) as { status: StatusDocument }).status;
      expect(doc).toMatchObject({ instanceId, status: 'Succeeded', storeStatus: 'Published', kind: 'flight' });
      const state = await sandbox.emulator.admin.state();
      const flights = state.applications.find((a) => a.id === APP)!.flights as Array<{
        flightId: string;
        friendlyName: string;
      }>;
      expect(flights.find((f) => f.friendlyName === 'Insiders')?.flightId).toBe(
        (doc.product as { flightId: string }).flightId,
      );
    },
  );

  it.concurrent('an add-on by productId: created, its listing and icon published, exit 0', async () => {
    const zip = await packAndValidate('addon-extra-levels', {
      'store.json': {
        target: { kind: 'addon', addon: { productId: 'extra-levels', productType: 'Durable', applicationId: APP } },
        options: { waitFor: 'published' },
      },
      'listings/en-us/title.txt': 'Extra levels',
      'listings/en-us/description.txt': 'Ten more levels.',
      'listings/en-us/icon.png': pngOf(300, 300),
    });
    const submitted = await cli(['submit', zip, '--json']);
    expect(submitted.code).toBe(0);
    const { status: doc } = JSON.parse(submitted.stdout) as SubmitJson;
    expect(doc).toMatchObject({ status: 'Succeeded', storeStatus: 'Published', kind: 'addon' });
    const id = (doc.product as { inAppProductId: string }).inAppProductId;
    expect(id).not.toBe(SEED_IDS.demoAddOn);
    const published = await storeGet(sandbox, `inappproducts/${id}/submissions/${doc.submissionId}`);
    expect(published.listings).toMatchObject({
      'en-us': {
        title: 'Extra levels',
        description: 'Ten more levels.',
        icon: { fileName: 'listings/en-us/icon.png' },
      },
    });
  });

  it.concurrent('rejected input: exit 2 and nothing uploaded, for a bad zip and for a name already taken', async () => {
    // Taken by a zip whose run fails at once (its manifest names no product).
    const dropped = await sandbox.drop('taken.zip', goodZip({ target: { kind: 'app' } }));
    // Its run ends by stamping the zip (a new ETag): wait for that before taking the ETag to compare.
    await sandbox.finished(instanceIdFor(sandbox.submissions.containerName, 'taken.zip', dropped));
    const badZip = join(root, 'bad.zip');
    writeFileSync(badZip, goodZip({ target: { kind: 'app', applicationId: 'nope' } }));
    const bad = await cli(['submit', badZip]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('submission.json target.applicationId: must be a 12-character Store ID');
    expect(await blobNames()).not.toContain('bad.zip');

    // A mistake in the folder stops at pack: there is no zip to submit.
    const dir = makeFolder(root, 'bad-folder', { 'store.json': { target: { kind: 'app', applicationId: APP } } });
    const packed = await runCliProcess(['pack', dir, '-o', join(root, 'bad-folder.zip')]);
    expect(packed.code).toBe(2);
    expect(packed.stderr).toMatch(/bad-folder\/: has no package/);

    const etag = (await sandbox.submissions.getBlobClient('taken.zip').getProperties()).etag;
    const again = await cli(['submit', appZip, '--name', 'taken.zip']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /taken\.zip already exists; give the upload another name with --name, or replace it with --overwrite/,
    );
    expect((await sandbox.submissions.getBlobClient('taken.zip').getProperties()).etag).toBe(etag);
  });

  it.concurrent('an unreachable Functions app or storage: exit 3, nothing uploaded', async () => {
    const zip = appZip;
    const noFunctions = await cli(['submit', zip, '--name', 'unreachable.zip'], `http://127.0.0.1:${await freePort()}`);
    expect(noFunctions.code).toBe(3);
    expect(noFunctions.stderr).toMatch(
      /cannot reach the Functions app at http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/,
    );

    const deadStorage = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${'A'.repeat(86)}==;BlobEndpoint=http://127.0.0.1:${await freePort()}/devstoreaccount1`;
    const noStorage = await cli(['submit', zip, '--name', 'unreachable.zip'], sandbox.host.url, deadStorage);
    expect(noStorage.code).toBe(3);
    expect(noStorage.stderr).toMatch(/cannot reach storage/);
    expect(noStorage.stderr).not.toContain('A'.repeat(86));
    expect(await blobNames()).not.toContain('unreachable.zip');

    const statusUnreachable = await cli(
      ['status', 'zip-0123456789012345678901234567890123456789'],
      `http://127.0.0.1:${await freePort()}`,
    );
    expect(statusUnreachable.code).toBe(3);
  });

  it.concurrent('--timeout: exit 4 while the run goes on; status --wait then follows it to Published', async () => {
    const stuck = await sandbox.emulator.admin.fault({
      kind: 'stuck',
      status: 'Certification',
      productId: SEED_IDS.demoAddOn,
    });
    const zip = await packAndValidate('addon-demo', {
      'store.json': {
        target: { kind: 'addon', inAppProductId: SEED_IDS.demoAddOn },
        options: { waitFor: 'published' },
      },
      'listings/en-us/title.txt': 'Demo add-on, again',
    });
    // The run cannot end while the Store holds it in Certification, so the CLI's 2 s always run
    // out first. How far the run got by then depends on the machine: on a busy one the host may
    // not have picked it up yet (Pending), or every poll in those 2 s may have met a 5xx (no
    // document). What is asserted is that the CLI says the run is not over.
    const submitted = await cli(['submit', zip, '--json', '--timeout', '2s']);
    expect(submitted.code).toBe(4);
    const out = JSON.parse(submitted.stdout) as SubmitJson;
    const shown = out.status as StatusDocument | null;
    expect([null, 'Pending', 'Running']).toContain(shown === null ? null : shown.status);
    // The run goes on without the CLI, up to where the Store holds it.
    await sandbox.waitFor(out.instanceId, (d) => d.phase === 'WaitingForStore' && d.storeStatus === 'Certification');

    await sandbox.emulator.admin.removeFault(stuck.id);
    const followed = await cli(['status', out.instanceId, '--wait']);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/^Succeeded: add-on 9NBLGGH4TNNR, submission \d+ \(Store: Published\)\.$/m);
  });
});
