import { ProductRouteError, productOfRoute } from '../../lib/productRoute';

const GUID = '43e448df-97c9-4a43-a0bc-2a445e736bcd';

function refusal(fn: () => unknown): ProductRouteError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProductRouteError) return e;
    throw e;
  }
  throw new Error('expected a ProductRouteError');
}

describe('the product of a /api/products/{kind}/{id} route', () => {
  it("names an app or add-on by its Store ID and a flight by its id with its app, in the Store's case", () => {
    expect(productOfRoute('app', '9nblggh4r315')).toEqual({ kind: 'app', applicationId: '9NBLGGH4R315' });
    expect(productOfRoute('addon', '9NBLGGH4TNNR')).toEqual({ kind: 'addon', inAppProductId: '9NBLGGH4TNNR' });
    expect(productOfRoute('flight', GUID.toUpperCase(), '9nblggh4r315')).toEqual({
      kind: 'flight',
      applicationId: '9NBLGGH4R315',
      flightId: GUID,
    });
  });

  it('refuses with 400 and a code: a bad id, a flight without its app, an unknown kind', () => {
    const bad = (fn: () => unknown) => {
      const e = refusal(fn);
      return { status: e.status, code: e.code, message: e.message };
    };
    expect(bad(() => productOfRoute('app', '9NBLGGH4R31'))).toEqual({
      status: 400,
      code: 'InvalidProductId',
      message: '"9NBLGGH4R31" is not a Store ID: an app id has 12 letters and digits, e.g. 9NBLGGH4R315.',
    });
    expect(bad(() => productOfRoute('addon', 'x')).message).toMatch(/an add-on id has 12 letters/);
    expect(bad(() => productOfRoute('flight', 'not-a-guid', '9NBLGGH4R315')).code).toBe('InvalidProductId');
    expect(bad(() => productOfRoute('flight', GUID))).toMatchObject({
      code: 'InvalidProductId',
      message: expect.stringContaining('?applicationId='),
    });
    expect(bad(() => productOfRoute('bundle', '9NBLGGH4R315'))).toEqual({
      status: 400,
      code: 'InvalidProductKind',
      message: '"bundle" is not a product kind: "app", "flight" or "addon".',
    });
  });

  it('refuses a kind the route does not serve, naming the ones it does', () => {
    // The rollout routes: add-ons have no package rollout.
    expect(refusal(() => productOfRoute('addon', '9NBLGGH4TNNR', null, ['app', 'flight']))).toMatchObject({
      code: 'InvalidProductKind',
      message: 'This route serves "app" or "flight" products, not "addon".',
    });
  });
});
