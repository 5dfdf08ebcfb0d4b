/** Tracing a manifest field back to the folder file it came from, and the files the zip may hold. */
import { mergeInto } from '../../../cli/pack/assemble';
import { Findings } from '../../../cli/pack/findings';

describe('Findings', () => {
  it('traces a field to the longest recorded prefix, and anything unrecorded to store.json', () => {
    const f = new Findings('/abs/path/release', 'release');
    f.cameFrom('submission.listings.en-us', 'listings/en-us');
    f.cameFrom('submission.listings.en-us.baseListing.title', 'listings/en-us/title.txt');
    f.cameFrom('submission.applicationPackages[0]', 'App_1.0.0.0_x64.msix');
    expect(f.originOf('submission.listings.en-us.baseListing.title')).toBe('listings/en-us/title.txt');
    expect(f.originOf('submission.listings.en-us.baseListing.description')).toBe('listings/en-us');
    expect(f.originOf('submission.applicationPackages[0].fileName')).toBe('App_1.0.0.0_x64.msix');
    // A prefix only counts at a field boundary: en-us is not a prefix of en-usx.
    expect(f.originOf('submission.listings.en-usx')).toBe('store.json');
    expect(f.originOf('target.applicationId')).toBe('store.json');
  });

  it('shows paths under the label the user gave, the folder itself with a slash', () => {
    const f = new Findings('/abs/path/app', 'app');
    f.problem('', 'has no package');
    f.problem('listings/en-us/title.txt', 'is empty', 'title');
    expect(f.problems).toEqual([
      { file: 'app/', field: undefined, message: 'has no package' },
      { file: 'app/listings/en-us/title.txt', field: 'title', message: 'is empty' },
    ]);
  });

  it('adds a file once, and refuses a name that cannot be a zip entry', () => {
    const f = new Findings('/r', 'r');
    f.addFile('a.msix');
    f.addFile('a.msix');
    f.addFile('bad\\name.msix');
    expect([...f.files.keys()]).toEqual(['a.msix']);
    expect(f.problems).toEqual([expect.objectContaining({ file: 'r/bad\\name.msix' })]);
    expect(f.problems[0]!.message).toMatch(/^cannot be a zip entry: its name /);
  });
});

describe('mergeInto', () => {
  it("adds store.json's fields, merges objects key by key, and names every field given both ways", () => {
    const base: Record<string, unknown> = { listings: { 'en-us': { baseListing: { title: 'T' } } }, pricing: 'x' };
    const extra = {
      listings: { 'en-us': { baseListing: { title: 'again', keywords: ['k'] } }, 'de-de': {} },
      pricing: { priceId: 'Free' },
      hardwarePreferences: ['Touch'],
    };
    const clashes = mergeInto(base, extra, 'submission');
    expect(clashes).toEqual(['submission.listings.en-us.baseListing.title', 'submission.pricing']);
    expect(base).toEqual({
      listings: { 'en-us': { baseListing: { title: 'T', keywords: ['k'] } }, 'de-de': {} },
      pricing: 'x',
      hardwarePreferences: ['Touch'],
    });
    // What was added is a copy: changing it leaves store.json's value alone.
    (base.hardwarePreferences as string[]).push('Keyboard');
    expect(extra.hardwarePreferences).toEqual(['Touch']);
  });
});
