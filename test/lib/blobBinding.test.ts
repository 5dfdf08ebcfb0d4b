import { blobReferenceOrFail, type BlobReference } from '../../lib/blobBinding';
import { BlobClient } from '@azure/storage-blob';

describe('blobReferenceOrFail: the trigger got a blob reference, or says what it got', () => {
  it('passes a reference from the deferred binding through', () => {
    const client = new BlobClient('https://account.blob.core.windows.net/zips/a.zip');
    const ref: BlobReference = { connection: 'SUBMISSIONS_STORAGE', containerName: 'zips', blobName: 'a.zip', client };
    expect(blobReferenceOrFail(ref, 'a')).toBe(ref);
  });

  it.each([
    [
      'bytes',
      Buffer.from('PK\x03\x04 zip bytes'),
      /got the blob's bytes \(14 bytes\) for app\/v2\.zip instead of a blob reference/,
    ],
    ['text', 'PK...', /got the blob's content as text \(5 characters\)/],
    ['nothing', undefined, /got no value/],
    ['an object without a client', { blobName: 'a.zip', containerName: 'zips' }, /got a value of type object/],
  ])('fails with a clear message when the host passed %s', (_what, value, message) => {
    expect(() => blobReferenceOrFail(value, 'app/v2')).toThrow(message);
    expect(() => blobReferenceOrFail(value, 'app/v2')).toThrow(
      /did not defer the binding \(sdkBinding\).*Nothing was started/,
    );
  });
});
