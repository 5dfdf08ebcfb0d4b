/** Real-looking file contents for tests: PNGs whose IHDR tells their size, MSI and EXE installers by their signatures. */
import { crc32, deflateSync } from 'node:zlib';

/** A real PNG of `width`×`height` transparent pixels (checks read its IHDR). */
export function pngOf(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 4 + 1) * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An MSI starts with the OLE compound file signature. */
export const MSI_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/** `size` bytes of a would-be MSI: its signature, then a pattern that differs per `label`. */
export function msiOf(label: string, size = 4096): Buffer {
  return Buffer.concat([MSI_SIGNATURE, Buffer.alloc(Math.max(0, size - MSI_SIGNATURE.length), label)]);
}

/** `size` bytes of a would-be EXE: "MZ", then a pattern that differs per `label`. */
export function exeOf(label: string, size = 4096): Buffer {
  return Buffer.concat([Buffer.from('MZ', 'latin1'), Buffer.alloc(Math.max(0, size - 2), label)]);
}
