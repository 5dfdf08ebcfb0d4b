/**
 * Guarantee 2: two zips for the same product never interleave. They run one after the other in
 * upload order, even when the blob trigger sees them in the opposite order, and the second's
 * status says whom it waited for; a zip for another product runs alongside.
 *
 * The hard case is set up on purpose, and without racing the machine: the three zips land while
 * the host is down, so its first blob scan sees them all at once, listing names alphabetically,
 * and the later upload has the earlier name, so its run starts first. The first run is held in
 * Certification (a stuck fault) until the other product's run has finished and the second run
 * is seen queued behind it: what "alongside" and "waits" mean, observed rather than timed.
 *
 * The clock runs at 3x, not 60x: the product's settle wait (10 s, for runs whose triggers fire
 * a moment apart, orchestrations/submitToStore.ts) is then 3.3 s of real time, far above how
 * far apart a busy machine fires two triggers of one scan; at 60x it would be 170 ms.
 *
 * The first zip changes only the listing: with a package, it would be superseded by the newer
 * package waiting behind it (guarantee 13) and submit nothing, which is not what this tests.
 */
import { findLeakedSecrets } from '../helpers/secrets';
import {
  apiCalls,
  appIds,
  appZip,
  describeCalls,
  drop,
  listingZip,
  seedApp,
  seedOf,
  sleep,
  startReliabilitySandbox,
  type ReliabilitySandbox,
} from './support';

const [productA, productC] = appIds('ORDR', 2) as [string, string];

describe('order per product', () => {
  let sandbox: ReliabilitySandbox;
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({
      host: { clockSpeed: 3 },
      emulator: { seed: seedOf([seedApp(productA), seedApp(productC)]) },
      // Polls 1.7 s of real time apart at this clock.
      settings: { POLL_FIRST_INTERVAL_SECONDS: '5', POLL_MAX_INTERVAL_SECONDS: '5' },
    });
  });
  afterAll(() => sandbox?.stop());

  /** When the blob trigger first fired for `name` (its host log line). */
  function firedAt(name: string): number {
    const detected = `${sandbox.submissions.containerName}/${name}'`;
    const line = sandbox.logs.find((l) => l.message.includes('New blob detected') && l.message.includes(detected));
    return line ? Date.parse(line.time) : NaN;
  }

  it('runs two zips of one product one after the other in upload order, and another product alongside', async () => {
    const first = 'z-first.zip';
    const second = 'a-second.zip';
    const other = 'm-other-product.zip';
    const held = await sandbox.emulator.admin.fault({ kind: 'stuck', status: 'Certification', productId: productA });

    await sandbox.killHost();
    const firstId = await drop(sandbox, first, listingZip(productA, { waitFor: 'published' }));
    const firstUpload = Date.now();
    const otherId = await drop(sandbox, other, appZip(productC, { waitFor: 'published' }));
    // Last-Modified has one-second resolution: the second upload must fall in a later second.
    await sleep(1100 - (Date.now() - firstUpload));
    // A higher version than the first: the Store takes each version of a package once.
    const secondId = await drop(sandbox, second, appZip(productA, { waitFor: 'published' }, '2.1.0.0'));
    await sandbox.startHostAgain();

    // The other product's run ends while the first is held, and the second waits behind it.
    const otherDoc = await sandbox.finished(otherId);
    const queued = await sandbox.waitFor(secondId, (d) => d.phase === 'Queued' && d.queuedBehind === firstId);
    const heldDoc = await sandbox.waitFor(firstId, (d) => d.storeStatus === 'Certification');
    expect(heldDoc.status).toBe('Running');
    await sandbox.emulator.admin.removeFault(held.id);

    const [firstDoc, secondDoc] = await Promise.all([sandbox.finished(firstId), sandbox.finished(secondId)]);

    // The setup held: the later upload's trigger fired first.
    expect(firedAt(second)).toBeLessThanOrEqual(firedAt(first));

    expect([firstDoc.status, secondDoc.status, otherDoc.status]).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);

    // The Store saw product A's runs strictly one after the other: every call of the first
    // (its submission's calls included) before the second run's first call, the product read.
    const state = await sandbox.emulator.admin.state();
    const callsA = apiCalls(state, productA);
    const firstSub = firstDoc.submissionId!;
    const secondSub = secondDoc.submissionId!;
    expect(firstSub).not.toEqual(secondSub);
    // The first run's last call is its last status poll (the second reads that submission too,
    // once it is the published one).
    const lastOfFirst = Math.max(...callsA.map((c, i) => (c.path.endsWith(`/${firstSub}/status`) ? i : -1)));
    const productReads = callsA
      .map((c, i) => (c.method === 'GET' && c.path.endsWith(`/applications/${productA}`) ? i : -1))
      .filter((i) => i >= 0);
    expect(productReads.length).toBeGreaterThanOrEqual(2);
    // The second run's first call is the first product read after the first run's submission
    // existed (the first run's own reads come before its create; one the client repeated after a
    // slow answer is still before it).
    const firstMention = callsA.findIndex((c) => c.path.includes(firstSub));
    const firstOfSecond = productReads.find((i) => i > firstMention) ?? -1;
    const log = describeCalls(callsA).join('\n');
    // (The log is in the expectation so that a failure shows the order the Store saw.)
    expect({ secondFound: firstOfSecond >= 0, interleaved: lastOfFirst > firstOfSecond, log }).toEqual({
      secondFound: true,
      interleaved: false,
      log,
    });
    expect(callsA.slice(0, firstOfSecond).some((c) => c.path.includes(secondSub))).toBe(false);
    // And the first had reached its goal (Published) before the second touched the Store.
    const published = state.submissions
      .find((s) => s.id === firstSub)!
      .statusHistory.find((h) => h.status === 'Published');
    expect(Date.parse(published!.at)).toBeLessThanOrEqual(Date.parse(callsA[firstOfSecond]!.time));

    // The second says whom it waited for: while waiting, and afterwards.
    expect(queued.queuedBehind).toBe(firstId);
    expect(secondDoc.waitedFor).toEqual([firstId]);
    const turn = secondDoc.timeline.find((s) => s.step === 'waitForTurn');
    expect(turn?.detail).toBe(`waited for ${firstId}`);
    expect(firstDoc.waitedFor).toBeUndefined();

    // Another product is not held up: it finished while product A's first run was held.
    expect(otherDoc.waitedFor).toBeUndefined();
    expect(otherDoc.timeline.find((s) => s.step === 'waitForTurn')?.detail).toBe('no earlier run for this product');
  });

  it('leaks no secret anywhere', async () => {
    const texts = sandbox.responses.map((r) => ({ where: r.url, text: r.body }));
    expect(await findLeakedSecrets(sandbox, { texts, taskHub: sandbox.taskHub })).toEqual([]);
  });
});
