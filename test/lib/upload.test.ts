/** The upload plan's pure decisions: the URL fix, block sizes and ids (the copy itself: test/integration/upload.test.ts). */
import { UploadError } from '../../lib/errors';
import { MAX_BLOCK_BYTES, MAX_BLOCKS, blockIds, fixUploadUrl, planBlocks } from '../../lib/upload';

const MiB = 1024 * 1024;

describe('fixUploadUrl', () => {
  it('encodes + in the query only', () => {
    expect(fixUploadUrl('https://h/c/a+b.zip?sv=2017-04-17&sig=ab+c/d=&sp=rw')).toBe(
      'https://h/c/a+b.zip?sv=2017-04-17&sig=ab%2Bc/d=&sp=rw',
    );
    expect(fixUploadUrl('https://h/c/b')).toBe('https://h/c/b');
  });
});

describe('planBlocks and blockIds', () => {
  it('keeps the wanted size unless 50,000 blocks cannot hold the blob, and never exceeds 100 MiB', () => {
    expect(planBlocks(10 * MiB + 1, 4 * MiB)).toEqual({ blockSize: 4 * MiB, count: 3 });
    expect(planBlocks(0, 4 * MiB)).toEqual({ blockSize: 4 * MiB, count: 0 });
    expect(planBlocks(10, 500 * MiB).blockSize).toBe(MAX_BLOCK_BYTES);
    const huge = planBlocks(1000 * 1024 * MiB, 8 * MiB);
    expect(huge.count).toBeLessThanOrEqual(MAX_BLOCKS);
    expect(huge.blockSize).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
    expect(() => planBlocks(MAX_BLOCKS * MAX_BLOCK_BYTES + 1, 8 * MiB)).toThrow(UploadError);
  });

  it('gives the same fixed-width ids for the same source version, and new ones for another', () => {
    const a = blockIds('"0x1"', 4 * MiB, 3);
    expect(blockIds('"0x1"', 4 * MiB, 3)).toEqual(a);
    expect(blockIds('"0x2"', 4 * MiB, 3)[0]).not.toBe(a[0]);
    expect(new Set(a).size).toBe(3);
    expect(new Set(blockIds('"0x1"', MiB, 2000).map((id) => id.length)).size).toBe(1);
  });
});
