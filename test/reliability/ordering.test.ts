/**
 * Guarantee 2: two zips for the same product never interleave. They run one after the other in
 * upload order, even when the blob trigger sees them in the opposite order, and the second's
 * status says whom it waited for; a zip for another product runs alongside.
 *
 * The hard case is set up on purpose: both zips are seen in the same blob scan (a scan lists
 * names alphabetically), and the later upload has the earlier name, so its run starts first.
 */
import type { StatusDocument } from '../../lib/statusDocument';
import { findLeakedSecrets } from '../helpers/secrets';
import {
  apiCalls,
  appIds,
  appZip,
  describeCalls,
  drop,
  seedApp,
  seedOf,
  sleep,
  startReliabilitySandbox,
  until,
  type ReliabilitySandbox,
} from './support';

const [productA, productC] = appIds('ORDR', 2) as [string, string];
const SCAN_MS = 4000;

describe('order per product', () => {
  let sandbox: ReliabilitySandbox;
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({
      host: { blobPollIntervalMs: SCAN_MS },
      // Certification takes a while, so each run's Store calls span a second or more.
      emulator: { seed: seedOf([seedApp(productA), seedApp(productC)]), config: { certificationMs: 1000 } },
    });
  });
  afterAll(() => sandbox?.stop());

  /** Resolves right after the host's blob scan has fired the trigger for `name`. */
  async function scanned(name: string): Promise<void> {
    const detected = `${sandbox.submissions.containerName}/${name}'`;
    await until(`the blob scan to see ${name}`, async () =>
      sandbox.logs.some((l) => l.message.includes('New blob detected') && l.message.includes(detected)),
    );
  }

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
    // Right after a scan, so that the three uploads below all land before the next one.
    await drop(sandbox, 'probe.zip', Buffer.from('not a zip: only marks when the blob scan runs'));
    await scanned('probe.zip');
    const firstId = await drop(sandbox, first, appZip(productA, { waitFor: 'published' }));
    const firstUpload = Date.now();
    const otherId = await drop(sandbox, other, appZip(productC, { waitFor: 'published' }));
    // Last-Modified has one-second resolution: the second upload must fall in a later second.
    await sleep(1100 - (Date.now() - firstUpload));
    // A higher version than the first: the Store takes each version of a package once.
    const secondId = await drop(sandbox, second, appZip(productA, { waitFor: 'published' }, '2.1.0.0'));

    // Watch the second run while it waits.
    const seen: StatusDocument[] = [];
    let done: StatusDocument | undefined;
    while (!done) {
      const doc = await sandbox.status(secondId);
      if (doc) seen.push(doc);
      if (doc && ['Succeeded', 'Failed', 'Canceled'].includes(doc.status)) done = doc;
      else await sleep(50);
    }
    const [firstDoc, otherDoc] = await Promise.all([
      sandbox.finished(firstId, 30_000),
      sandbox.finished(otherId, 30_000),
    ]);
    const secondDoc = done;

    // The setup held: one scan saw both zips of product A, the later upload first.
    expect(Math.abs(firedAt(first) - firedAt(second))).toBeLessThan(1000);
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
    expect(productReads).toHaveLength(2);
    const firstOfSecond = productReads[1]!;
    const log = describeCalls(callsA).join('\n');
    // (The log is in the expectation so that a failure shows the order the Store saw.)
    expect({ interleaved: lastOfFirst > firstOfSecond, log }).toEqual({ interleaved: false, log });
    expect(callsA.slice(0, firstOfSecond).some((c) => c.path.includes(secondSub))).toBe(false);
    // And the first had reached its goal (Published) before the second touched the Store.
    const published = state.submissions
      .find((s) => s.id === firstSub)!
      .statusHistory.find((h) => h.status === 'Published');
    expect(Date.parse(published!.at)).toBeLessThanOrEqual(Date.parse(callsA[firstOfSecond]!.time));

    // The second says whom it waited for: while waiting, and afterwards.
    expect(seen.some((d) => d.phase === 'Queued' && d.queuedBehind === firstId)).toBe(true);
    expect(secondDoc.waitedFor).toEqual([firstId]);
    const turn = secondDoc.timeline.find((s) => s.step === 'waitForTurn');
    expect(turn?.detail).toBe(`waited for ${firstId}`);
    expect(firstDoc.waitedFor).toBeUndefined();

    // Another product is not held up: its Store calls overlap the first run's.
    const callsC = apiCalls(state, productC);
    const span = (calls: typeof callsC) => [Date.parse(calls[0]!.time), Date.parse(calls.at(-1)!.time)] as const;
    const [aStart, aEnd] = span(callsA.slice(0, lastOfFirst + 1));
    const [cStart, cEnd] = span(callsC);
    expect(cStart).toBeLessThan(aEnd);
    expect(aStart).toBeLessThan(cEnd);
    expect(otherDoc.waitedFor).toBeUndefined();
  }, 60_000);

  it('leaks no secret anywhere', async () => {
    const texts = sandbox.responses.map((r) => ({ where: r.url, text: r.body }));
    expect(await findLeakedSecrets(sandbox, { texts, taskHub: sandbox.taskHub })).toEqual([]);
  });
});
