/** Sorting an image-type folder into images, captions and strays, and the PNG checks. */
import { pngProblem, sortImageFolder } from '../../../cli/pack/images';

const file = (name: string) => ({ name, isFile: true });

describe('sortImageFolder', () => {
  it('orders PNGs by name with numbers as numbers, each with the caption of the same name in any case', () => {
    const sorted = sortImageFolder([
      file('10-map.png'),
      file('02-settings.PNG'),
      file('02-SETTINGS.txt'),
      file('1.png'),
    ]);
    expect(sorted).toEqual({
      images: [{ png: '1.png' }, { png: '02-settings.PNG', caption: '02-SETTINGS.txt' }, { png: '10-map.png' }],
      strays: [],
      empty: false,
    });
  });

  it('names a caption without its image, anything not a PNG, and a folder in the way', () => {
    const sorted = sortImageFolder([file('05.txt'), file('03.jpg'), { name: 'more.png', isFile: false }]);
    expect(sorted.images).toEqual([]);
    expect(sorted.strays).toEqual([
      { name: '05.txt', message: 'is a caption without its image: name it like the image, e.g. 05.png' },
      {
        name: '03.jpg',
        message: 'is not a PNG image; the Store takes .png files (a .txt of the same name is the caption)',
      },
      {
        name: 'more.png',
        message: 'is not a PNG image; the Store takes .png files (a .txt of the same name is the caption)',
      },
    ]);
    expect(sorted.empty).toBe(false);
    expect(sortImageFolder([]).empty).toBe(true);
  });
});

describe('pngProblem', () => {
  const png = (width: number, height: number): Buffer => {
    const head = Buffer.alloc(24);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(head);
    head.writeUInt32BE(13, 8);
    head.write('IHDR', 12, 'latin1');
    head.writeUInt32BE(width, 16);
    head.writeUInt32BE(height, 20);
    return head;
  };

  it('accepts a PNG, of the exact size when one is asked for', () => {
    expect(pngProblem(png(2, 2))).toBeUndefined();
    expect(pngProblem(png(300, 300), 300)).toBeUndefined();
    expect(pngProblem(png(300, 299), 300)).toBe('is 300x299 pixels; the Store takes exactly 300x300');
  });

  it('refuses what does not start like a PNG, however short', () => {
    const message = 'is not a PNG image (its first bytes are not a PNG signature); the Store takes PNG files';
    expect(pngProblem(Buffer.from('GIF89a-and-more-bytes-to-fill'))).toBe(message);
    expect(pngProblem(png(2, 2).subarray(0, 20))).toBe(message);
    expect(pngProblem(Buffer.alloc(0))).toBe(message);
  });
});
