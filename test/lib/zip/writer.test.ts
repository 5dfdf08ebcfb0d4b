import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { BlobWriter, configure, TextWriter, Uint8ArrayReader, ZipReader } from '@zip.js/zip.js';
import { writeZip, ZipWriterEntry } from '../../../lib/zip/writer';

configure({ useWebWorkers: false });

async function zipToBuffer(
  entries: ZipWriterEntry[],
  options?: { forceZip64?: boolean },
): Promise<{ zip: Buffer; bytes: number }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const { bytes } = await writeZip(entries, out, options);
  return { zip: Buffer.concat(chunks), bytes };
}

/** zip.js, an independent implementation, checks signatures and CRC-32 while extracting. */
async function readWithZipJs(zip: Buffer): Promise<Map<string, { data: Buffer; zip64: boolean; compressed: boolean }>> {
  const reader = new ZipReader(new Uint8ArrayReader(new Uint8Array(zip)), { checkSignature: true });
  const out = new Map<string, { data: Buffer; zip64: boolean; compressed: boolean }>();
  for (const entry of await reader.getEntries()) {
    if (entry.directory) throw new Error(`unexpected folder ${entry.filename}`);
    const blob = await entry.getData(new BlobWriter(), { checkSignature: true });
    out.set(entry.filename, {
      data: Buffer.from(await blob.arrayBuffer()),
      zip64: entry.zip64,
      compressed: entry.compressedSize !== entry.uncompressedSize,
    });
  }
  await reader.close();
  return out;
}

const chunked =
  (data: Buffer, size = 7000) =>
  () =>
    Readable.from(
      (function* () {
        for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
      })(),
    );

describe('writeZip', () => {
  test('buffers and streams, stored and deflated, read back byte for byte by zip.js', async () => {
    const text = Buffer.from('{"target": {"kind": "app"}}\n'.repeat(200));
    const noise = randomBytes(150_000);
    const { zip, bytes } = await zipToBuffer([
      { name: 'submission.json', data: text, compress: true },
      { name: 'packages/App.msixupload', data: chunked(noise), size: noise.length },
      { name: 'images/en-us/Screenshot 1 ü.png', data: chunked(text), size: text.length, compress: true },
      { name: 'random.bin', data: noise, compress: true },
    ]);
    expect(bytes).toBe(zip.length);
    const read = await readWithZipJs(zip);
    expect([...read.keys()]).toEqual([
      'submission.json',
      'packages/App.msixupload',
      'images/en-us/Screenshot 1 ü.png',
      'random.bin',
    ]);
    expect(read.get('submission.json')!.data.equals(text)).toBe(true);
    expect(read.get('submission.json')!.compressed).toBe(true);
    expect(read.get('packages/App.msixupload')!.data.equals(noise)).toBe(true);
    expect(read.get('images/en-us/Screenshot 1 ü.png')!.data.equals(text)).toBe(true);
    // Random bytes do not shrink: stored, not deflated.
    expect(read.get('random.bin')!.compressed).toBe(false);
    expect(read.get('random.bin')!.data.equals(noise)).toBe(true);
  });

  test('forceZip64 writes zip64 records that zip.js reads', async () => {
    const data = randomBytes(10_000);
    const { zip } = await zipToBuffer(
      [
        { name: 'a.bin', data },
        { name: 'b.bin', data: chunked(data), size: data.length, compress: true },
      ],
      { forceZip64: true },
    );
    expect(zip.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    const text = await new ZipReader(new Uint8ArrayReader(new Uint8Array(zip))).getEntries();
    expect(text.map((e) => [e.filename, e.zip64, e.uncompressedSize])).toEqual([
      ['a.bin', true, 10_000],
      ['b.bin', true, 10_000],
    ]);
    expect((await readWithZipJs(zip)).get('b.bin')!.data.equals(data)).toBe(true);
  });

  test('waits for a slow destination instead of buffering the zip', async () => {
    let maxQueued = 0;
    let received = 0;
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, done) {
        received += chunk.length;
        maxQueued = Math.max(maxQueued, slow.writableLength);
        setImmediate(done);
      },
    });
    const size = 8 * 1024 * 1024;
    const { bytes } = await writeZip(
      [{ name: 'big.bin', data: chunked(Buffer.alloc(size, 1), 64 * 1024), size }],
      slow,
    );
    expect(received).toBe(bytes);
    expect(maxQueued).toBeLessThan(512 * 1024);
  });

  test('refuses unsafe or duplicate names and streams that lie about their size', async () => {
    await expect(writeZip([{ name: '../x', data: Buffer.from('x') }], new PassThrough())).rejects.toThrow(
      /path traversal/,
    );
    await expect(writeZip([{ name: 'a\\b', data: Buffer.from('x') }], new PassThrough())).rejects.toThrow(/backslash/);
    await expect(
      writeZip(
        [
          { name: 'a', data: Buffer.from('x') },
          { name: 'a', data: Buffer.from('y') },
        ],
        new PassThrough(),
      ),
    ).rejects.toThrow(/given twice/);
    await expect(writeZip([{ name: 'a', data: chunked(Buffer.from('xy')) }], new PassThrough())).rejects.toThrow(
      /needs its size/,
    );
    const sink = new PassThrough();
    sink.resume();
    await expect(writeZip([{ name: 'a', data: chunked(Buffer.from('xyz')), size: 5 }], sink)).rejects.toThrow(
      /yielded 3 bytes, not the 5 announced/,
    );
  });

  test('the same entries give the same bytes', async () => {
    const entries = (): ZipWriterEntry[] => [
      { name: 'submission.json', data: Buffer.from('{}'), compress: true },
      { name: 'x', data: chunked(Buffer.from('abc')), size: 3 },
    ];
    expect((await zipToBuffer(entries())).zip.equals((await zipToBuffer(entries())).zip)).toBe(true);
  });

  test('text entries survive zip.js TextWriter (UTF-8 flag set)', async () => {
    const { zip } = await zipToBuffer([{ name: 'ünïcode/ß.json', data: Buffer.from('"ä"'), compress: true }]);
    const [entry] = await new ZipReader(new Uint8ArrayReader(new Uint8Array(zip))).getEntries();
    if (!entry || entry.directory) throw new Error('expected one file entry');
    expect(entry.filename).toBe('ünïcode/ß.json');
    expect(await entry.getData(new TextWriter())).toBe('"ä"');
  });
});
