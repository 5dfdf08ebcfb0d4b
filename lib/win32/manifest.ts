/**
 * The win32 part of the zip contract: a manifest for an MSI or EXE app, in the Store's
 * MSI/EXE API's own JSON (windows-dev-docs hub/apps/publish/store-submission-api.md), with
 * installers and images named by their path in the zip. The schema checks shapes; what needs the
 * zip's entries or the Store's value lists is checked here.
 */
import type { InputProblem } from '../errors';
import type { ZipEntryInfo } from '../zip/format';
import { isInstallerFileName, zipPath, type Manifest } from '../manifest/types';
import { isStoreLanguage, STORE_LANGUAGES } from './languages';

type Json = Record<string, unknown>;

/** A package of the manifest: the API's package with `fileName` in place of `packageUrl`. */
export interface ManifestWin32Package {
  fileName: string;
  languages: string[];
  architectures: string[];
  isSilentInstall: boolean;
  installerParameters?: string;
  genericDocUrl?: string;
  errorDetails?: Array<{
    errorScenario: string;
    errorScenarioDetails: Array<{ errorValue: string; errorUrl?: string }>;
  }>;
  packageType?: 'exe' | 'msi';
}

export interface ManifestWin32Assets {
  screenshots?: Array<{ fileName: string }>;
  storeLogos?: Array<{ fileName: string }>;
}

/** The manifest's `submission` for a win32 target, as the schema has checked it. */
export interface Win32SubmissionSpec {
  packages?: ManifestWin32Package[];
  listings?: Record<string, Json>;
  listingAssets?: Record<string, ManifestWin32Assets>;
  listingsToRemove?: string[];
  properties?: Json;
  availability?: Json;
}

export function win32Spec(manifest: Pick<Manifest, 'submission'>): Win32SubmissionSpec {
  return manifest.submission;
}

/** exe or msi: as given, else by the file name. */
export function packageTypeOf(p: Pick<ManifestWin32Package, 'fileName' | 'packageType'>): 'exe' | 'msi' {
  return p.packageType ?? (p.fileName.toLowerCase().endsWith('.exe') ? 'exe' : 'msi');
}

/** The installers and the images a win32 manifest takes from the zip, as zip entry paths. */
export function win32Uploads(manifest: Pick<Manifest, 'submission'>): { installers: string[]; images: string[] } {
  const spec = win32Spec(manifest);
  const installers = (spec.packages ?? []).map((p) => zipPath(p.fileName));
  const images = Object.values(spec.listingAssets ?? {}).flatMap((a) =>
    [...(a.screenshots ?? []), ...(a.storeLogos ?? [])].map((i) => zipPath(i.fileName)),
  );
  return { installers, images: [...new Set(images)] };
}

const MAX_SEARCH_WORDS = 21;

/** Problems of a win32 submission the schema cannot see: installers against the zip, languages, word counts. */
export function win32ManifestProblems(submission: Json, entries: ZipEntryInfo[], file: string): InputProblem[] {
  const spec = submission as Win32SubmissionSpec;
  const problems: InputProblem[] = [];
  const listed = new Map<string, number>();
  (Array.isArray(spec.packages) ? spec.packages : []).forEach((p, i) => {
    if (!p || typeof p !== 'object' || typeof p.fileName !== 'string') return;
    const at = `submission.packages[${i}]`;
    const name = zipPath(p.fileName);
    if (!isInstallerFileName(name)) {
      problems.push({
        file,
        field: `${at}.fileName`,
        message: `"${p.fileName}" is not an installer: the Store takes .msi and .exe files`,
      });
    } else if (p.packageType && packageTypeOf({ fileName: name }) !== p.packageType) {
      // The Store runs an exe directly and hands an msi to msiexec: the wrong type fails every install (QField#8011).
      problems.push({
        file,
        field: `${at}.packageType`,
        message: `is "${p.packageType}" but "${p.fileName}" is an ${packageTypeOf({ fileName: name })} file; the Store would launch it the wrong way`,
      });
    }
    const before = listed.get(name.toLowerCase());
    if (before !== undefined)
      problems.push({
        file,
        field: `${at}.fileName`,
        message: `"${p.fileName}" is listed twice (also submission.packages[${before}])`,
      });
    else listed.set(name.toLowerCase(), i);
    (Array.isArray(p.languages) ? p.languages : []).forEach((l, j) =>
      problems.push(...languageProblem(l, file, `${at}.languages[${j}]`)),
    );
  });
  for (const e of entries) {
    if (e.directory || !isInstallerFileName(e.name) || listed.has(e.name.toLowerCase())) continue;
    problems.push({
      file,
      field: 'submission.packages',
      message: spec.packages
        ? `does not list "${e.name}", which is in the zip: list it with its languages, architectures and install switches, or leave it out of the zip`
        : `is not given, but the zip holds the installer "${e.name}": list the installers in submission.packages (with their languages, architectures and install switches), or leave them out for an update of the listings only`,
    });
  }
  for (const key of ['listings', 'listingAssets'] as const) {
    const map = spec[key];
    if (!map || typeof map !== 'object') continue;
    for (const language of Object.keys(map))
      problems.push(...languageProblem(language, file, `submission.${key}.${language}`));
  }
  const removed = Array.isArray(spec.listingsToRemove) ? spec.listingsToRemove : [];
  removed.forEach((l, i) => {
    problems.push(...languageProblem(l, file, `submission.listingsToRemove[${i}]`));
    const lower = typeof l === 'string' ? l.toLowerCase() : '';
    for (const key of ['listings', 'listingAssets'] as const) {
      if (Object.keys(spec[key] ?? {}).some((k) => k.toLowerCase() === lower))
        problems.push({
          file,
          field: `submission.listingsToRemove[${i}]`,
          message: `removes "${l}", which submission.${key} also gives`,
        });
    }
  });
  for (const [language, listing] of Object.entries(spec.listings ?? {})) {
    const terms = listing?.searchTerms;
    if (!Array.isArray(terms)) continue;
    const words = new Set(
      terms.flatMap((t) => (typeof t === 'string' ? t.toLowerCase().split(/\s+/).filter(Boolean) : [])),
    );
    if (words.size > MAX_SEARCH_WORDS)
      problems.push({
        file,
        field: `submission.listings.${language}.searchTerms`,
        message: `has ${words.size} different words; the Store takes at most ${MAX_SEARCH_WORDS} across all search terms`,
      });
  }
  return problems;
}

function languageProblem(code: unknown, file: string, field: string): InputProblem[] {
  if (typeof code !== 'string' || isStoreLanguage(code)) return [];
  const lower = code.toLowerCase();
  const base = lower.split('-')[0] ?? '';
  const near =
    [...STORE_LANGUAGES].find((l) => l === base) ?? [...STORE_LANGUAGES].find((l) => l.startsWith(`${base}-`));
  return [
    {
      file,
      field,
      message: `"${code}" is not a language the Store takes${near ? `; did you mean "${near}"?` : ' (see the Languages table of the Store submission API)'}`,
    },
  ];
}

/** Options that have no meaning for the target's kind, named where they were given. */
export function optionProblems(
  kind: string | undefined,
  options: Record<string, unknown>,
  file: string,
  prefix: string,
): InputProblem[] {
  const problems: InputProblem[] = [];
  if (kind === 'win32') {
    if (options.pendingSubmission !== undefined)
      problems.push({
        file,
        field: `${prefix}.pendingSubmission`,
        message:
          'does not apply to a win32 target: MSI/EXE apps have one draft and no pending submission; use options.ongoingSubmission',
      });
    if (options.existingRollout !== undefined)
      problems.push({
        file,
        field: `${prefix}.existingRollout`,
        message: 'does not apply to a win32 target: MSI/EXE apps have no package rollouts',
      });
    if (options.commit === 'approval')
      problems.push({
        file,
        field: `${prefix}.commit`,
        message: 'the approval gate is not available for win32 targets: their submission is committed as it is made',
      });
  } else if (kind && options.ongoingSubmission !== undefined) {
    problems.push({
      file,
      field: `${prefix}.ongoingSubmission`,
      message: 'applies to win32 targets only; use options.pendingSubmission',
    });
  }
  return problems;
}
