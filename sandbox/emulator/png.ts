/**
 * A transparent PNG of a given size, written by the emulator (a seeded listing asset has no file
 * of its own, yet its download must be an image of its size) and by the tests (images for release
 * folders and uploads). The sandbox owns it: tests may use the sandbox, the product never does.
 * The layout is the PNG specification's (signature, IHDR, IDAT, IEND; w3.org/TR/png-3).
 */
import { crc32, deflateSync } from 'node:zlib';

/** A real PNG of `width`×`height` transparent pixels (a reader of its IHDR finds that size). */
export function blankPng(width: number, height: number): Buffer {
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
  // 8 bits per channel, RGBA, deflate, adaptive filtering, no interlace.
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    // Each row: filter type 0, then width × 4 zero bytes.
    chunk('IDAT', deflateSync(Buffer.alloc((width * 4 + 1) * height))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
