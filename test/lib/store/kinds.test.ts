import {
  KINDS,
  describeProduct,
  kindInfo,
  productPath,
  submissionIdIn,
  submissionPath,
  type ProductRef,
} from '../../../lib/store/kinds';

const app: ProductRef = { kind: 'app', applicationId: '9NBLGGH4R315' };
const flight: ProductRef = {
  kind: 'flight',
  applicationId: '9NBLGGH4R315',
  flightId: '43e448df-97c9-4a43-a0bc-2a445e736bcd',
};
const addon: ProductRef = { kind: 'addon', inAppProductId: '9NBLGGH4TNMP' };

describe('the kinds table', () => {
  it('places each kind where the Store keeps it', () => {
    expect(productPath(app)).toBe('applications/9NBLGGH4R315');
    expect(productPath(flight)).toBe('applications/9NBLGGH4R315/flights/43e448df-97c9-4a43-a0bc-2a445e736bcd');
    expect(productPath(addon)).toBe('inappproducts/9NBLGGH4TNMP');
  });

  it('builds submission paths the same way for every kind', () => {
    const sid = '1152921504621243540';
    expect(submissionPath(app)).toBe('applications/9NBLGGH4R315/submissions');
    expect(submissionPath(flight, sid, 'commit')).toBe(`${productPath(flight)}/submissions/${sid}/commit`);
    expect(submissionPath(addon, sid, 'status')).toBe(`inappproducts/9NBLGGH4TNMP/submissions/${sid}/status`);
  });

  it('names the pending, published and package fields per kind', () => {
    expect(kindInfo('app')).toMatchObject({
      pendingField: 'pendingApplicationSubmission',
      publishedField: 'lastPublishedApplicationSubmission',
      packagesField: 'applicationPackages',
    });
    expect(kindInfo('flight')).toMatchObject({
      pendingField: 'pendingFlightSubmission',
      publishedField: 'lastPublishedFlightSubmission',
      packagesField: 'flightPackages',
    });
    expect(kindInfo('addon').pendingField).toBe('pendingInAppProductSubmission');
    expect(kindInfo('addon').packagesField).toBeUndefined();
    expect(Object.keys(KINDS).sort()).toEqual(['addon', 'app', 'flight']);
  });

  it('encodes ids into single path segments and refuses empty or non-string ids', () => {
    expect(productPath({ kind: 'app', applicationId: '../x?y' })).toBe('applications/..%2Fx%3Fy');
    expect(() => productPath({ kind: 'app', applicationId: '' })).toThrow(/applicationId/);
    expect(() => submissionPath(app, 1152921504621243540 as unknown as string)).toThrow(/submissionId/);
  });

  it('refuses a reference of another kind than the table entry it is given to', () => {
    expect(() => KINDS.flight.productPath(app)).toThrow(/flight/);
  });

  it('reads the submission id a product points at', () => {
    const product = { pendingApplicationSubmission: { id: '1152921504621243540', resourceLocation: 'x' } };
    expect(submissionIdIn(product, kindInfo('app').pendingField)).toBe('1152921504621243540');
    expect(submissionIdIn(product, kindInfo('app').publishedField)).toBeUndefined();
    expect(submissionIdIn(null, 'x')).toBeUndefined();
  });

  it('describes products for messages', () => {
    expect(describeProduct(flight)).toBe('flight 43e448df-97c9-4a43-a0bc-2a445e736bcd of application 9NBLGGH4R315');
    expect(describeProduct(addon)).toBe('add-on 9NBLGGH4TNMP');
  });
});
