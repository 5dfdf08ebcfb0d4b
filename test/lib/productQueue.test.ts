import {
  activate,
  aheadOf,
  evictFromQueue,
  joinQueue,
  leaveQueue,
  newerWaiting,
  productKey,
  queuePlace,
  supersededBy,
  turnOf,
  type ProductQueue,
  type QueueEntry,
} from '../../lib/productQueue';

const empty: ProductQueue = { key: 'app-9NBLGGH4R315', entries: [] };
const entry = (instanceId: string, uploadedAt: string, joinedAt = '2026-01-01T00:00:10Z') => ({
  instanceId,
  uploadedAt,
  joinedAt,
});

describe('product queue', () => {
  it('serves runs in upload order, whatever order they joined in', () => {
    let q = joinQueue(empty, entry('late', '2026-01-01T00:00:02Z'));
    q = joinQueue(q, entry('early', '2026-01-01T00:00:01Z'));
    expect(turnOf(q, 'early')).toEqual({ mine: true, position: 0 });
    expect(turnOf(q, 'late')).toEqual({ mine: false, position: 1, behind: 'early' });
  });

  it('breaks ties of one upload second by when the runs joined', () => {
    let q = joinQueue(empty, entry('b', '2026-01-01T00:00:01Z', '2026-01-01T00:00:05Z'));
    q = joinQueue(q, entry('a', '2026-01-01T00:00:01Z', '2026-01-01T00:00:06Z'));
    expect(turnOf(q, 'b').mine).toBe(true);
  });

  it('never lets a later-joining earlier upload overtake the active run', () => {
    let q = joinQueue(empty, entry('running', '2026-01-01T00:00:05Z'));
    q = activate(q, 'running');
    q = joinQueue(q, entry('older', '2026-01-01T00:00:01Z'));
    expect(turnOf(q, 'older')).toMatchObject({ mine: false, behind: 'running' });
    expect(aheadOf(q, 'older').map((e) => e.instanceId)).toEqual(['running']);
  });

  it('joins once, and hands the turn on when the head leaves or is evicted', () => {
    let q = joinQueue(empty, entry('one', '2026-01-01T00:00:01Z'));
    expect(joinQueue(q, entry('one', '2026-01-01T00:00:01Z'))).toBe(q);
    q = joinQueue(q, entry('two', '2026-01-01T00:00:02Z'));
    q = joinQueue(q, entry('three', '2026-01-01T00:00:03Z'));
    expect(turnOf(leaveQueue(q, 'one'), 'two').mine).toBe(true);
    expect(turnOf(evictFromQueue(q, ['one', 'two']), 'three').mine).toBe(true);
  });

  it('keys an app and its flights together, add-ons by what names them', () => {
    expect(productKey({ kind: 'app', applicationId: '9NBLGGH4R315' } as never)).toBe('app-9NBLGGH4R315');
    expect(productKey({ kind: 'flight', applicationId: '9NBLGGH4R315', flightId: 'x' } as never)).toBe(
      'app-9NBLGGH4R315',
    );
    expect(productKey({ kind: 'addon', inAppProductId: '9NBLGGH4TNNR' } as never)).toBe('addon-9NBLGGH4TNNR');
    expect(
      productKey({
        kind: 'addon',
        addon: { productId: 'gems', productType: 'Consumable', applicationId: 'A' },
      } as never),
    ).toBe('addon-product-gems');
  });
});

describe('the newest release wins', () => {
  const at = '2026-01-01T00:00:01Z';
  const release = (version: string, line = 'app') => ({ line, version });
  const queued = (instanceId: string, version?: string, blobName = `${instanceId}.zip`): QueueEntry => ({
    ...entry(instanceId, at),
    blobName,
    ...(version ? { release: release(version) } : {}),
  });
  const queueOf = (...entries: QueueEntry[]) => entries.reduce(joinQueue, empty);

  it('orders uploads of one second by blob name, whichever run joined first', () => {
    let q = joinQueue(empty, { ...entry('b-run', at, '2026-01-01T00:00:05Z'), blobName: 'b.zip' });
    q = joinQueue(q, { ...entry('a-run', at, '2026-01-01T00:00:09Z'), blobName: 'a.zip' });
    expect(turnOf(q, 'a-run').mine).toBe(true);
    expect(turnOf(q, 'b-run')).toMatchObject({ mine: false, behind: 'a-run' });
  });

  it('records the release a run delivered, only ever upwards, per release line', () => {
    let q = queueOf(queued('one', '1.2.0.0'), queued('two', '1.1.0.0'));
    q = leaveQueue(q, 'one', release('1.2.0.0'));
    expect(q.committed).toEqual({ app: { instanceId: 'one', version: '1.2.0.0' } });
    q = leaveQueue(q, 'two', release('1.1.0.0'));
    expect(q.committed).toEqual({ app: { instanceId: 'one', version: '1.2.0.0' } });
    expect(q.entries).toEqual([]);
    q = leaveQueue(q, 'flight-run', release('1.0.0.0', 'flight-123'));
    expect(q.committed).toEqual({
      app: { instanceId: 'one', version: '1.2.0.0' },
      'flight-123': { instanceId: 'flight-run', version: '1.0.0.0' },
    });
    // Leaving without a delivered release (failed, canceled, superseded) records nothing.
    expect(leaveQueue(q, 'x').committed).toBe(q.committed);
  });

  it('supersedes a run whose version is not higher than one already delivered, naming that run', () => {
    const waiting = queueOf(queued('old', '1.2.0.0'), queued('same', '1.3.0.0'));
    const q = { ...waiting, committed: { app: { instanceId: 'newer', version: '1.3.0.0' } } };
    expect(supersededBy(q, 'old')).toEqual({ instanceId: 'newer', version: '1.3.0.0', because: 'committed' });
    expect(supersededBy(q, 'same')).toEqual({ instanceId: 'newer', version: '1.3.0.0', because: 'committed' });
    // Numerically: 1.10 is higher than 1.9.
    const higher = queueOf(queued('ten', '1.10.0.0'));
    expect(supersededBy({ ...higher, committed: { app: { instanceId: 'nine', version: '1.9.0.0' } } }, 'ten')).toBe(
      undefined,
    );
  });

  it('supersedes a run when one waiting behind it carries a higher version: the highest of them', () => {
    const q = queueOf(queued('a', '1.0.5.0'), queued('b', '1.0.9.0'), queued('c', '1.0.7.0'), queued('d'));
    expect(turnOf(q, 'a').mine).toBe(true);
    expect(supersededBy(q, 'a')).toEqual({ instanceId: 'b', version: '1.0.9.0', because: 'queued' });
    expect(supersededBy(q, 'c')).toEqual({ instanceId: 'b', version: '1.0.9.0', because: 'queued' });
    expect(supersededBy(q, 'b')).toBeUndefined();
    // The runs whose liveness the run at its turn checks first, highest version first.
    expect(newerWaiting(q, 'a').map((e) => e.instanceId)).toEqual(['b', 'c']);
    expect(supersededBy(evictFromQueue(q, ['b']), 'a')).toEqual({
      instanceId: 'c',
      version: '1.0.7.0',
      because: 'queued',
    });
  });

  it('never supersedes a run without a release, nor by another release line', () => {
    const q = {
      ...queueOf(queued('noVersion'), { ...queued('flight', '1.0.0.0'), release: release('1.0.0.0', 'flight-1') }),
      committed: { app: { instanceId: 'app-run', version: '9.0.0.0' } },
    };
    expect(supersededBy(q, 'noVersion')).toBeUndefined();
    expect(supersededBy(q, 'flight')).toBeUndefined();
  });

  it('gives a run a release only when it submits packages of a known version', () => {
    const app = { kind: 'app', applicationId: '9NBLGGH4R315' } as const;
    const flight = { kind: 'flight', applicationId: '9NBLGGH4R315', flightId: '43e448df' } as const;
    expect(queuePlace({ target: app, options: {}, packageVersion: '1.2.3.0' }, 'r/1.zip', at)).toEqual({
      key: 'app-9NBLGGH4R315',
      uploadedAt: at,
      blobName: 'r/1.zip',
      release: { line: 'app', version: '1.2.3.0' },
    });
    expect(queuePlace({ target: flight, options: {}, packageVersion: '1.2.3.0' }, 'f.zip', at).release).toEqual({
      line: 'flight-43e448df',
      version: '1.2.3.0',
    });
    expect(queuePlace({ target: app, options: { dryRun: true }, packageVersion: '1.2.3.0' }, 'd.zip', at).release).toBe(
      undefined,
    );
    expect(queuePlace({ target: app, options: {} }, 'listing-only.zip', at).release).toBeUndefined();
  });
});
