import { basename, dirname, join, relative, resolve } from 'node:path';
import { filesToUpload } from '../../lib/manifest';
import { EXIT, type ExitCode } from '../errors';
import { packFolder } from '../pack';
import { identityLines } from './validate';
import type { Output } from '../output';
import { formatBytes } from '../../lib/zip/format';
import { targetLabel } from '../view';

export interface PackOptions {
  output?: string;
}

/** `pack <folder>`: 0 when the zip was written and passed validation, 2 when the folder was refused. */
export async function packCommand(folder: string, options: PackOptions, out: Output): Promise<ExitCode> {
  const output = options.output ?? join(dirname(resolve(folder)), `${basename(resolve(folder))}.zip`);
  try {
    const result = await packFolder(folder, output, folder);
    const { manifest, entries } = result.checked;
    const files = filesToUpload(manifest, entries);
    const uploads = [...files.packages, ...files.others];
    const near = relative(process.cwd(), result.output);
    const shown = near && !near.startsWith('..') ? near : result.output;
    out.result(
      {
        output: result.output,
        bytes: result.bytes,
        entries: entries.length,
        uploads,
        packages: result.packages.packages,
        notChecked: result.packages.notChecked,
        manifest: result.folder.manifest,
        missingImages: result.folder.summary.missingImages,
        ...(result.folder.summary.releaseNotes ? { releaseNotes: result.folder.summary.releaseNotes } : {}),
      },
      () => {
        const s = result.folder.summary;
        const listings = Object.entries(s.listings).map(
          ([lang, l]) =>
            `${lang} (${[...l.fields, ...(l.images ? [`${l.images} image${l.images === 1 ? '' : 's'}`] : [])].join(', ')})`,
        );
        return [
          `Packed ${folder} into ${shown} (${formatBytes(result.bytes)}, ${entries.length} entries)`,
          `  target    ${targetLabel(manifest.target)}`,
          ...(s.packages.length ? [`  packages  ${s.packages.join(', ')}`] : []),
          ...(listings.length ? [`  listings  ${listings.join('; ')}`] : []),
          ...(s.releaseNotes
            ? [`  notes     release notes of version ${s.releaseNotes.version} from ${s.releaseNotes.files.join(', ')}`]
            : []),
          ...missingLines(s.missingImages),
          `  uploads   ${files.packages.length} package(s), ${files.others.length} other file(s)`,
          ...identityLines(result.packages),
          `  checked   with the pipeline's own zip, manifest and offline package validation: ready to submit`,
        ];
      },
    );
    return EXIT.ok;
  } catch (e) {
    return out.fail(e, `${folder} cannot be packed`);
  }
}

/** The images images.json lists that are not in the folder yet, and what that means for the submission. */
function missingLines(missing: string[]): string[] {
  if (!missing.length) return [];
  const languages = [...new Set(missing.map((m) => m.split('/')[1]))];
  return [
    `  missing   ${missing.length} image(s) that images.json lists are not in the folder yet, so ${languages.join(', ')} keep${languages.length === 1 ? 's' : ''} the published images:`,
    ...missing.map((m) => `              ${m}`),
  ];
}
