import { isInputError } from '../../lib/errors';
import { filesToUpload } from '../../lib/manifest';
import { EXIT, UsageError, type ExitCode } from '../errors';
import { checkSubmissionPackages, readLocalSubmission, type LocalPackageCheck } from '../localZip';
import type { Output } from '../output';
import { formatBytes } from '../../lib/zip/format';
import { targetLabel } from '../view';

/** Reads a local zip as the pipeline reads a dropped one; a missing file is a usage error. */
export async function readZipArgument(zip: string) {
  try {
    return await readLocalSubmission(zip);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${zip} does not exist`, '<zip>');
    if (code === 'EISDIR')
      throw new UsageError(`${zip} is a folder; make a zip of it with: store-submitter pack ${zip}`, '<zip>');
    if (code === 'EACCES' || code === 'EPERM')
      throw new UsageError(`${zip} cannot be read: permission denied`, '<zip>');
    throw e;
  }
}

/** `validate <zip>`: 0 valid, 2 with every problem the pipeline would report. */
export async function validateCommand(zip: string, out: Output): Promise<ExitCode> {
  try {
    const { manifest, entries, size } = await readZipArgument(zip);
    const files = filesToUpload(manifest, entries);
    const uploads = [...files.packages, ...files.others];
    const packages = files.packages;
    const identities = await checkSubmissionPackages(zip, { manifest, entries });
    out.result(
      {
        valid: true,
        zip,
        size,
        entries: entries.length,
        target: manifest.target,
        options: manifest.options,
        uploads,
        packages: identities.packages,
        notChecked: identities.notChecked,
      },
      () => [
        `${zip} is valid: ${targetLabel(manifest.target)}`,
        `  zip       ${formatBytes(size)}, ${entries.length} entries`,
        `  packages  ${packages.length ? packages.join(', ') : 'none (the published packages stay)'}`,
        ...identityLines(identities),
        `  files     ${uploads.length - packages.length} image(s) and other file(s) to upload`,
        `  options   ${Object.entries(manifest.options)
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', ')}`,
      ],
    );
    return EXIT.ok;
  } catch (e) {
    if (out.json && isInputError(e) && !(e instanceof UsageError)) {
      out.result({ valid: false, zip, code: e.code, problems: e.problems }, () => '');
      return EXIT.rejected;
    }
    return out.fail(e, `${zip} is not valid`);
  }
}

/** The packages' identities, and what only the Store can tell (the run checks it before it creates anything). */
export function identityLines(check: LocalPackageCheck): string[] {
  return [
    ...check.packages.map((p) => `  identity  ${p.file}: ${p.name}, ${p.publisher}, ${p.versions.join('; ')}`),
    ...check.notChecked.map((what) => `  not checked offline: ${what}; the run checks it before it creates anything`),
  ];
}
