import { isRoundTrippingPriceId, pricingRefusal } from '../../lib/pricing';

describe('pricing: what the run can send back unchanged', () => {
  it('takes Free, NotAvailable and the two tier ranges; not Base, null or a tier out of range', () => {
    for (const ok of ['Free', 'NotAvailable', 'Tier2', 'Tier96', 'Tier1012', 'Tier1424'])
      expect([ok, isRoundTrippingPriceId(ok)]).toEqual([ok, true]);
    for (const bad of ['Base', null, undefined, '', 'Tier1', 'Tier97', 'Tier1011', 'Tier1425', 'tier5', 5])
      expect([bad, isRoundTrippingPriceId(bad)]).toEqual([bad, false]);
  });

  it('refuses a "Base" price the manifest does not name, naming the submission, the field and what to do', () => {
    const refusal = pricingRefusal(
      'app',
      'app 9NBLGGH4PAID',
      { submissionId: '1152921504621243999', priceId: 'Base' },
      false,
    );
    expect(refusal).toMatchObject({ code: 'PriceCannotBeKept', retriable: false });
    expect(refusal!.message).toContain('1152921504621243999 of app 9NBLGGH4PAID has pricing.priceId "Base"');
    expect(refusal!.message).toContain('submission.json submission.pricing.priceId');
    expect(refusal!.message).toContain('Partner Center');
    expect(pricingRefusal('addon', 'add-on X', { submissionId: '1', priceId: null }, false)!.message).toContain(
      'has no pricing.priceId:',
    );
  });

  it('lets the run go on when the price can be kept, is named, or there is none', () => {
    expect(pricingRefusal('app', 'a', { submissionId: '1', priceId: 'Tier5' }, false)).toBeUndefined();
    expect(pricingRefusal('app', 'a', { submissionId: '1', priceId: 'Base' }, true)).toBeUndefined();
    expect(pricingRefusal('flight', 'a', { submissionId: '1', priceId: 'Base' }, false)).toBeUndefined();
    expect(pricingRefusal('app', 'a', undefined, false)).toBeUndefined();
  });
});
