import { isInputError } from '../../lib/errors';
import { filesToUpload } from '../../lib/manifest';
import { EXIT, UsageError, type ExitCode } from '../errors';
import { checkSubmissionPackages, readLocalSubmission, type LocalPackageCheck } from '../localZip';
import type { Output } from '../output';
import { formatBytes } from '../../lib/zip/format';
import { previewBlock, targetLabel } from '../view';
import { FunctionsClient } from '../functionsClient';
import { MAX_PREVIEW_ZIP_BYTES } from '../../lib/storePreview';
import { registerSecret } from '../../lib/redact';
import type { SubmissionPreview } from '../../lib/preview';
import { readFile } from 'node:fs/promises';

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

/** Where `validate --against-store` asks for the preview: the Functions app, which holds the Store credential. */
export interface AgainstStore {
  functionsUrl: string;
  functionKey?: string;
}

/**
 * `validate <zip>`: 0 valid, 2 with every problem the pipeline would report. With `against`
 * (--against-store), a valid zip then goes to the app's POST /api/preview, and what it would
 * change against the published submission is printed as `submit` and `status` print it.
 */
export async function validateCommand(zip: string, out: Output, against?: AgainstStore): Promise<ExitCode> {
  out.secret(against?.functionKey);
  registerSecret(against?.functionKey);
  try {
    const { manifest, entries, size } = await readZipArgument(zip);
    const files = filesToUpload(manifest, entries);
    const uploads = [...files.packages, ...files.others];
    const packages = files.packages;
    const identities = await checkSubmissionPackages(zip, { manifest, entries });
    let store: Record<string, unknown> | undefined;
    if (against) {
      if (manifest.target.kind === 'win32')
        throw new UsageError(
          `${zip} targets an MSI/EXE app, which has no Store submission to compare against; --against-store is for apps, flights and add-ons`,
          '--against-store',
        );
      if (size > MAX_PREVIEW_ZIP_BYTES)
        throw new UsageError(
          `${zip} is ${formatBytes(size)}; --against-store sends the zip to the Functions app, which takes at most ${formatBytes(MAX_PREVIEW_ZIP_BYTES)}`,
          '--against-store',
        );
      out.info(`Asking the Functions app at ${against.functionsUrl} what ${zip} changes in the Store (read only)`);
      const functions = new FunctionsClient(against.functionsUrl, against.functionKey);
      store = await functions.preview(await readFile(zip), zip);
    }
    const preview = store?.preview as SubmissionPreview | undefined;
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
        ...(store ? { store } : {}),
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
        ...(store ? storeLines(store) : []),
        ...(preview ? previewBlock(preview) : []),
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

/** What the Store holds for the product, as the preview found it. */
function storeLines(store: Record<string, unknown>): string[] {
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const creates = text(store.creates);
  const lines = [
    creates
      ? `  store     the ${creates === 'addon' ? 'add-on' : creates} does not exist yet: a run creates it`
      : `  store     ${targetLabel(store.product as never)}, published submission ${text(store.publishedSubmissionId) ?? '(none)'}`,
  ];
  const pending = text(store.pendingSubmissionId);
  if (pending)
    lines.push(
      `  pending   submission ${pending} is pending: options.pendingSubmission decides what a run does with it`,
    );
  return lines;
}
