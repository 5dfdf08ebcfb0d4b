/** Listing text against the Store's limits for its field. */
import { APP_LISTING_FIELDS, type TextField } from '../../../cli/pack/convention';
import { checkListingText } from '../../../cli/pack/text';

const field = (name: string): TextField => APP_LISTING_FIELDS.find((f) => f.field === name)!;

describe('checkListingText', () => {
  it('takes a text field trimmed, with Windows line ends made \\n, up to its limit and not one past it', () => {
    expect(checkListingText('  Offline maps.\r\nDark mode.\r\n', field('releaseNotes'))).toEqual({
      value: 'Offline maps.\nDark mode.',
      problems: [],
    });
    expect(checkListingText('n'.repeat(1500), field('releaseNotes')).value).toHaveLength(1500);
    expect(checkListingText('n'.repeat(1501), field('releaseNotes'))).toEqual({
      problems: ['is 1501 characters long; the Store takes at most 1500'],
    });
    expect(checkListingText(' \n\t', field('title'))).toEqual({
      problems: ['is empty; write the title, or delete the file to keep the published one'],
    });
  });

  it('takes a list one item per non-blank line, numbering lines as the file does', () => {
    expect(checkListingText('Dark mode\n\n  Offline maps  \n', field('features'))).toEqual({
      value: ['Dark mode', 'Offline maps'],
      problems: [],
    });
    expect(checkListingText(`ok\n\n${'k'.repeat(41)}`, field('keywords'))).toEqual({
      problems: ['line 3 is 41 characters long; the Store takes at most 40 per keyword'],
    });
    expect(checkListingText('\n\n', field('features')).problems).toEqual([
      'is empty; write one feature per line, or delete the file to keep the published ones',
    ]);
  });

  it('reports every limit a list breaks at once, and gives no value then', () => {
    const words = Array.from({ length: 8 }, (_, i) => `w${i} x${i} y${i}`).join('\n');
    expect(checkListingText(words, field('keywords'))).toEqual({
      problems: [
        'has 8 keywords (one per line); the Store takes at most 7',
        'has 24 words in all; the Store takes at most 21 across all keywords',
      ],
    });
  });
});
