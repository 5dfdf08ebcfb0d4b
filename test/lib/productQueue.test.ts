import {
  activate,
  aheadOf,
  evictFromQueue,
  joinQueue,
  leaveQueue,
  productKey,
  turnOf,
  type ProductQueue,
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
