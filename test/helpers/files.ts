/** Real-looking file contents for tests: PNGs whose IHDR tells their size, MSI and EXE installers by their signatures. */
/** A real PNG of `width`×`height` transparent pixels (checks read its IHDR): the emulator's own. */
export { blankPng as pngOf } from '../../sandbox/emulator/png';

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
