/**
 * Checks of the files a win32 manifest names, by their first bytes (read by range, never whole):
 * an installer must be what its package type says, because the Store launches an exe directly
 * and hands an msi to msiexec (an MSI declared exe fails every install: QField#8011); images
 * must be PNGs, store logos 1:1 box art or 2:3 poster art (windows-dev-docs
 * hub/apps/publish/publish-your-app/msi/screenshots-and-images.md).
 */
import type { InputProblem } from '../errors';
import { pngSize } from '../images';
import type { Manifest } from '../manifest/types';
import { MANIFEST_NAME, zipPath } from '../manifest/types';
import type { BlobZip } from '../zip/blobZip';
import { packageTypeOf, win32Spec } from './manifest';

/** The OLE compound file signature every MSI starts with. */
export const MSI_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/** What an installer's first bytes say it is. */
export function installerKind(head: Buffer): 'msi' | 'exe' | undefined {
  if (head.length >= 8 && head.subarray(0, 8).equals(MSI_SIGNATURE)) return 'msi';
  if (head.length >= 2 && head[0] === 0x4d && head[1] === 0x5a) return 'exe';
  return undefined;
}

export function isLogoShape(size: { width: number; height: number }): boolean {
  return size.width === size.height || size.width * 3 === size.height * 2;
}

export async function win32ContentProblems(zip: BlobZip, manifest: Manifest): Promise<InputProblem[]> {
  const spec = win32Spec(manifest);
  const problems: InputProblem[] = [];
  const file = MANIFEST_NAME;
  const known = new Set(zip.entries.filter((e) => !e.directory).map((e) => e.name));
  for (const [i, p] of (spec.packages ?? []).entries()) {
    const name = zipPath(p.fileName);
    if (!known.has(name)) continue;
    const head = await zip.readEntryHead(name, 8);
    const type = packageTypeOf(p);
    const actual = installerKind(head);
    const field = `submission.packages[${i}].fileName`;
    if (head.length === 0) problems.push({ file, field, message: `"${p.fileName}" is empty` });
    else if (actual !== type)
      problems.push({
        file,
        field,
        message:
          type === 'msi'
            ? `"${p.fileName}" is not an MSI (it does not start with the signature of one${actual === 'exe' ? '; it is an EXE' : ''}), but its package type is msi`
            : `"${p.fileName}" is not a Windows executable (it does not start with "MZ"${actual === 'msi' ? '; it is an MSI' : ''}), but its package type is exe`,
      });
  }
  for (const [language, assets] of Object.entries(spec.listingAssets ?? {})) {
    for (const kind of ['screenshots', 'storeLogos'] as const) {
      for (const [i, image] of (assets[kind] ?? []).entries()) {
        const name = zipPath(image.fileName);
        if (!known.has(name)) continue;
        const size = pngSize(await zip.readEntryHead(name, 24));
        const field = `submission.listingAssets.${language}.${kind}[${i}].fileName`;
        if (!size)
          problems.push({ file, field, message: `"${image.fileName}" is not a PNG image; the Store takes PNG files` });
        else if (kind === 'storeLogos' && !isLogoShape(size))
          problems.push({
            file,
            field,
            message: `"${image.fileName}" is ${size.width}x${size.height} pixels; a store logo is 1:1 box art or 2:3 poster art`,
          });
      }
    }
  }
  return problems;
}
