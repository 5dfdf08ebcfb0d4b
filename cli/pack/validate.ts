/**
 * The last step: the pipeline's own validation of the manifest the folder makes, over the
 * entries the zip will have, its problems traced back to the folder file each field came from.
 */
import { isInputError } from '../../lib/errors';
import { MANIFEST_NAME, validateManifest } from '../../lib/manifest';
import type { ZipEntryInfo } from '../../lib/zip/format';
import { CONFIG_FILE } from './convention';
import type { Findings } from './findings';

export function validateFolderManifest(manifest: Record<string, unknown>, findings: Findings): void {
  const entries: ZipEntryInfo[] = [
    { name: MANIFEST_NAME, directory: false, compressedSize: 0, uncompressedSize: 0 },
    ...[...findings.files.values()].map((f) => ({
      name: f.name,
      directory: false,
      compressedSize: f.size,
      uncompressedSize: f.size,
    })),
  ];
  try {
    validateManifest(Buffer.from(JSON.stringify(manifest)), entries);
  } catch (e) {
    if (!isInputError(e)) throw e;
    for (const p of e.problems) {
      const from = p.field ? findings.originOf(p.field) : CONFIG_FILE;
      findings.problems.push({ file: findings.show(from), field: p.field, message: p.message });
    }
  }
}
