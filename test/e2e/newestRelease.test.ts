/**
 * The newest release wins (README, Guarantees): two zips of one app dropped at once, an older
 * and a newer build. Whichever order their runs take, the Store ends with the newer build, and
 * each run says what happened to its zip; the older build dropped again later is not submitted
 * and names the run that delivered the newer one. Then ten builds of one app uploaded within
 * one second in a random order (seeded and printed): the Store ends with the highest, the Store
 * never commits a build older than one it already took, nothing it is processing is deleted,
 * and every run's outcome is what happened to its zip.
 */
import { SEED_IDS, type EmulatorState } from '../../sandbox/emulator';
import { compareVersions } from '../../lib/package/identity';
import type { StatusDocument } from '../../lib/statusDocument';
import { goodZip, packageFor } from '../helpers/zips';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { ON_REAL_ENGINE } from '../helpers/engine';
import { apiSubmissionsOf, emulatorUntil, fileStatuses, requestsOf, runIdOf, stepsOf, storeGet } from './support';

const packageOf = (version: string) => `packages/Contoso.Demo_${version}_x64.msixupload`;

function releaseZip(version: string): Buffer {
  const fileName = packageOf(version);
  return goodZip(
    {
      target: { kind: 'app', applicationId: SEED_IDS.demoApp },
      submission: {
        listings: { 'en-us': { baseListing: { releaseNotes: `Version ${version}.` } } },
        applicationPackages: [{ fileName }],
      },
    },
    { [fileName]: packageFor(fileName) },
  );
}

describe('the newest release wins', () => {
  let sandbox: TestSandbox;
  // The settle time lets both runs join the queue before either takes its turn.
  beforeAll(async () => {
    sandbox = await startTestSandbox({ settings: { QUEUE_SETTLE_SECONDS: '30' } });
  });
  afterAll(() => sandbox?.stop());

  it('two zips dropped at once: the Store ends with the newer build, the older is superseded or went first', async () => {
    const seeded = apiSubmissionsOf(await sandbox.emulator.admin.state(), SEED_IDS.demoApp).map((s) => s.id);
    // The older build has the earlier name, so it sorts first among uploads of one second.
    const [olderEtag, newerEtag] = await Promise.all([
      sandbox.drop('releases/a-2.0.zip', releaseZip('2.0.0.0')),
      sandbox.drop('releases/b-2.1.zip', releaseZip('2.1.0.0')),
    ]);
    const olderId = runIdOf(sandbox, 'releases/a-2.0.zip', olderEtag);
    const newerId = runIdOf(sandbox, 'releases/b-2.1.zip', newerEtag);
    const [older, newer] = await Promise.all([sandbox.finished(olderId), sandbox.finished(newerId)]);

    expect(newer).toMatchObject({
      status: 'Succeeded',
      outcome: 'Succeeded',
      release: { line: 'app', version: '2.1.0.0' },
    });
    const submissions = apiSubmissionsOf(await sandbox.emulator.admin.state(), SEED_IDS.demoApp, seeded);
    const last = submissions.find((s) => s.id === newer.submissionId)!;
    expect(['PendingUpload', 'Uploaded']).toContain(fileStatuses(last)[packageOf('2.1.0.0')]);
    expect(fileStatuses(last)).not.toHaveProperty([packageOf('2.0.0.0')]);
    // The older run either saw the newer one waiting behind it (the usual case), or, on a machine
    // so slow that the newer run joined the queue only after the older had its turn, went first.
    if (older.outcome === 'Superseded') {
      expect(older).toMatchObject({
        status: 'Succeeded',
        supersededBy: { instanceId: newerId, version: '2.1.0.0' },
      });
      expect(older.submissionId).toBeUndefined();
      expect(stepsOf(older)).not.toContain('createSubmission');
      expect(submissions.map((s) => s.id)).toEqual([newer.submissionId]);
    } else {
      expect(older).toMatchObject({ outcome: 'Succeeded' });
      expect(newer.waitedFor).toEqual([olderId]);
    }

    // The older build again, now that the newer one is delivered: nothing reaches the Store.
    const requestsBefore = requestsOf(await sandbox.emulator.admin.state()).length;
    const againEtag = await sandbox.drop('releases/a-2.0-again.zip', releaseZip('2.0.0.0'));
    const again: StatusDocument = await sandbox.finished(runIdOf(sandbox, 'releases/a-2.0-again.zip', againEtag));
    expect(again).toMatchObject({
      status: 'Succeeded',
      phase: 'Succeeded',
      outcome: 'Superseded',
      release: { line: 'app', version: '2.0.0.0' },
      supersededBy: {
        instanceId: newerId,
        version: '2.1.0.0',
        because: 'committed',
        message: expect.stringContaining(`run ${newerId} already brought version 2.1.0.0 of this product to the Store`),
      },
    });
    expect(stepsOf(again)).toEqual([
      'getRunSettings',
      'validateZip',
      'waitForTurn',
      'superseded',
      'writeReport',
      'leaveTurn',
    ]);
    expect(requestsOf(await sandbox.emulator.admin.state()).length).toBe(requestsBefore);
    const report = JSON.parse((await sandbox.reports.getBlobClient(again.reportBlob!).downloadToBuffer()).toString());
    expect(report).toMatchObject({ outcome: 'Superseded', supersededBy: { instanceId: newerId } });
  });
});

/** A small seeded generator (mulberry32): the same seed gives the same upload order. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The version of the demo app's package a submission carries as new (PendingUpload), from its file name. */
function newVersionOf(files: Record<string, unknown>): string | undefined {
  const names = Object.entries(files)
    .filter(([, status]) => status === 'PendingUpload' || status === 'Uploaded')
    .map(([name]) => /^packages\/Contoso\.Demo_(\d+\.\d+\.\d+\.\d+)_x64\.msixupload$/.exec(name)?.[1])
    .filter((v): v is string => v !== undefined);
  return names[0];
}

/** The Store's commits and deletes in the order it answered them, with the submission each named. */
interface StoreWrite {
  call: 'commit' | 'delete';
  submissionId: string;
  status: number;
}

function storeWrites(state: EmulatorState): StoreWrite[] {
  return state.requests.flatMap((r): StoreWrite[] => {
    if (r.server !== 'api') return [];
    const commit = r.method === 'POST' ? /submissions\/([^/]+)\/commit$/.exec(r.path) : null;
    if (commit) return [{ call: 'commit', submissionId: commit[1]!, status: r.status }];
    const del = r.method === 'DELETE' ? /submissions\/([^/]+)$/.exec(r.path) : null;
    return del ? [{ call: 'delete', submissionId: del[1]!, status: r.status }] : [];
  });
}

describe('the newest release wins, ten zips in one second', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox({
      // Long enough that all ten runs usually join the queue before the first takes its turn (on
      // the home engine's 60x clock 300 s is 5 s); the test holds whichever way they join.
      settings: { QUEUE_SETTLE_SECONDS: ON_REAL_ENGINE ? '15' : '300' },
    });
  });
  afterAll(() => sandbox?.stop());

  it('ten builds of one app uploaded within one second in random order: the Store ends with the highest, and every run says what happened to its zip', async () => {
    const seed = Number(process.env.NEWEST_RELEASE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = seededRandom(seed);
    // 3.1 … 3.10: the highest sorts last by number but not by text, as a version must compare.
    const versions = Array.from({ length: 10 }, (_, k) => `3.${k + 1}.0.0`);
    const highest = versions[versions.length - 1]!;
    const order = shuffled(versions, random);
    const zips = order.map((version, i) => ({
      version,
      name: `burst/${String(i).padStart(2, '0')}-${version}.zip`,
      zip: releaseZip(version),
    }));
    const seeded = apiSubmissionsOf(await sandbox.emulator.admin.state(), SEED_IDS.demoApp).map((s) => s.id);
    console.log(`ten zips, seed ${seed} (NEWEST_RELEASE_SEED=${seed} replays it), upload order ${order.join(', ')}`);

    // One after the other in the shuffled order, starting just after a second begins, so that
    // storage's whole-second upload times tie (they are printed, not asserted: the machine may be slow).
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10));
    const uploads: Array<{ version: string; name: string; instanceId: string; lastModified: string }> = [];
    for (const z of zips) {
      const result = await sandbox.submissions.getBlockBlobClient(z.name).upload(z.zip, z.zip.length);
      uploads.push({
        version: z.version,
        name: z.name,
        instanceId: runIdOf(sandbox, z.name, result.etag!),
        lastModified: result.lastModified!.toISOString(),
      });
    }
    const docs = await Promise.all(uploads.map((u) => sandbox.finished(u.instanceId)));
    const byId = new Map(uploads.map((u, i) => [u.instanceId, { ...u, doc: docs[i]! }]));

    // What happened, printed for the record (a failure can be replayed with the seed).
    const lines = uploads.map(
      (u, i) =>
        `  ${u.name} (Last-Modified ${u.lastModified}) ${u.instanceId}: ${docs[i]!.outcome}` +
        (docs[i]!.supersededBy
          ? ` by ${byId.get(docs[i]!.supersededBy.instanceId)?.name ?? docs[i]!.supersededBy.instanceId} (${docs[i]!.supersededBy.because})`
          : '') +
        (docs[i]!.submissionId ? ` submission ${docs[i]!.submissionId}` : ''),
    );
    console.log(
      [
        `ten zips, seed ${seed}:`,
        `${new Set(uploads.map((u) => u.lastModified)).size} distinct upload second(s); all runs ended ${((Date.now() - started) / 1000).toFixed(1)} s after the first upload`,
        ...lines,
      ].join('\n'),
    );

    // Every run ended well, having either delivered its zip or been superseded.
    for (const doc of docs) {
      expect(doc.status).toBe('Succeeded');
      expect(['Succeeded', 'Superseded']).toContain(doc.outcome);
    }

    // The highest build was delivered, and once the Store is done with it, it is what the app publishes.
    const top = uploads.find((u) => u.version === highest)!;
    const topDoc = byId.get(top.instanceId)!.doc;
    expect(topDoc).toMatchObject({ outcome: 'Succeeded', release: { line: 'app', version: highest } });
    const state = await emulatorUntil(
      sandbox,
      (s) => s.submissions.find((x) => x.id === topDoc.submissionId)?.status === 'Published',
    );
    const app = await storeGet(sandbox, `applications/${SEED_IDS.demoApp}`);
    expect((app.lastPublishedApplicationSubmission as { id: string }).id).toBe(topDoc.submissionId);

    // The Store's history: each submission the runs made, with the build it carries as new.
    const made = apiSubmissionsOf(state, SEED_IDS.demoApp, seeded);
    const versionOf = new Map(made.map((s) => [s.id, newVersionOf(fileStatuses(s))]));
    const writes = storeWrites(state);
    const commits = writes.filter((w) => w.call === 'commit' && w.status >= 200 && w.status < 300);
    const committedVersions = commits.map((c) => versionOf.get(c.submissionId));
    // Nothing older than (or the same as) a build the Store already took reaches its commit.
    for (let i = 1; i < committedVersions.length; i++)
      expect(compareVersions(committedVersions[i]!, committedVersions[i - 1]!)).toBeGreaterThan(0);
    expect(committedVersions[committedVersions.length - 1]).toBe(highest);
    // No submission the Store was processing was deleted, nor was deleting one tried: a delete
    // names only a submission never committed, and every committed submission is still there.
    const committedIds = new Set(commits.map((c) => c.submissionId));
    expect(writes.filter((w) => w.call === 'delete' && (committedIds.has(w.submissionId) || w.status === 409))).toEqual(
      [],
    );
    for (const id of committedIds) expect(made.map((s) => s.id)).toContain(id);
    // No build was refused by the Store's package check, as an older one would be.
    expect(made.filter((s) => /Failed$/.test(s.status))).toEqual([]);

    // Every run's outcome says what happened to its zip.
    for (const { version, instanceId, doc } of byId.values()) {
      if (doc.outcome === 'Succeeded') {
        // Delivered: its own submission, committed, carrying its build.
        expect(doc.submissionId).toBeDefined();
        expect(committedIds.has(doc.submissionId!)).toBe(true);
        expect(versionOf.get(doc.submissionId!)).toBe(version);
      } else {
        // Superseded: nothing of it reached the Store, and it names a run of a newer build.
        expect(doc.submissionId).toBeUndefined();
        expect(stepsOf(doc)).not.toContain('createSubmission');
        expect(committedVersions).not.toContain(version);
        const by = doc.supersededBy!;
        const newer = byId.get(by.instanceId);
        expect(newer).toBeDefined();
        expect(by.instanceId).not.toBe(instanceId);
        expect(by.version).toBe(newer!.version);
        expect(compareVersions(by.version, version)).toBeGreaterThan(0);
        // `committed`: that run had delivered it already.
        if (by.because === 'committed') expect(newer!.doc.outcome).toBe('Succeeded');
        expect(by.message).toContain(by.instanceId);
      }
    }
    // Every commit is a Succeeded run's, one each.
    const delivered = docs.filter((d) => d.outcome === 'Succeeded').map((d) => d.submissionId);
    expect([...delivered].sort()).toEqual([...committedIds].sort());
    expect(commits).toHaveLength(committedIds.size);
  });
});
