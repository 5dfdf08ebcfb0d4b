import { instanceIdFor, isInstanceId } from '../../lib/instanceId';

describe('instanceIdFor', () => {
  it('is the same for one blob version however its ETag is quoted', () => {
    const a = instanceIdFor('submissions', 'apps/x.zip', '"0x8DC1"');
    expect(instanceIdFor('submissions', 'apps/x.zip', '0x8DC1')).toBe(a);
    expect(isInstanceId(a)).toBe(true);
  });

  it('differs for a new upload, another name or another container', () => {
    const a = instanceIdFor('submissions', 'apps/x.zip', '"0x8DC1"');
    expect(instanceIdFor('submissions', 'apps/x.zip', '"0x8DC2"')).not.toBe(a);
    expect(instanceIdFor('submissions', 'apps/y.zip', '"0x8DC1"')).not.toBe(a);
    expect(instanceIdFor('other', 'apps/x.zip', '"0x8DC1"')).not.toBe(a);
  });
});
