import { InputError, InputProblem } from '../errors';
import { isObject } from '../json';
import type { ZipEntryInfo } from '../zip/format';
import { formatBytes } from '../zip/format';
import { join, manifestSchemaProblems, optionsSchemaProblems } from './schema';
import { rampProblems } from '../ramp';
import { optionProblems, win32ManifestProblems } from '../win32/manifest';
import { decodeManifest, JsonSyntaxError, parseJson } from './text';
import {
  DEFAULT_OPTIONS,
  isPackageFileName,
  Manifest,
  MANIFEST_NAME,
  ManifestOptions,
  MAX_MANIFEST_BYTES,
  MAX_PACKAGES,
  PACKAGE_EXTENSIONS,
  packagesKey,
  Target,
  TargetKind,
  zipPath,
} from './types';

/** Where problems with options passed to the HTTP start call are reported. */
export const START_REQUEST = 'start request';

const manifestError = (problems: InputProblem[]): InputError => new InputError(problems, 'InvalidManifest');

/**
 * Parse + schema-validate + check file references against the entries. Throws InputError
 * (code InvalidManifest) listing every problem. `overrides` (from the HTTP start call) are
 * validated like manifest options and win over the manifest's.
 */
export function validateManifest(bytes: Buffer, entries: ZipEntryInfo[], overrides?: unknown): Manifest {
  const file = MANIFEST_NAME;
  const overrideProblems = overrides === undefined ? [] : optionsSchemaProblems(overrides, START_REQUEST);
  const stop = (problem: InputProblem): never => {
    throw manifestError([problem, ...overrideProblems]);
  };
  if (bytes.length > MAX_MANIFEST_BYTES)
    stop({ file, message: `is ${formatBytes(bytes.length)}; the limit is ${formatBytes(MAX_MANIFEST_BYTES)}` });
  const decoded = decodeManifest(bytes);
  if ('error' in decoded) return stop({ file, message: decoded.error });
  let doc: unknown;
  try {
    doc = parseJson(decoded.text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return stop({ file, message: `${e.message}${hintForSyntax(decoded.text)}` });
  }

  const problems = [...manifestSchemaProblems(doc, file), ...overrideProblems];
  const root = isObject(doc) ? doc : {};
  const kind = kindOf(root.target);
  const submission = isObject(root.submission) ? root.submission : {};
  problems.push(...fileReferenceProblems(submission, entries, file));
  if (kind === 'win32') problems.push(...win32ManifestProblems(submission, entries, file));
  else if (kind) problems.push(...packageProblems(kind, submission, entries, file));
  problems.push(...optionProblems(kind, isObject(root.options) ? root.options : {}, file, 'options'));
  if (isObject(overrides)) problems.push(...optionProblems(kind, overrides, START_REQUEST, 'options'));
  for (const [source, opts] of [
    [file, root.options],
    [START_REQUEST, overrides],
  ] as const) {
    if (!isObject(opts) || opts.rollout === undefined) continue;
    if (kind === 'addon' || kind === 'win32')
      problems.push({
        file: source,
        field: 'options.rollout',
        message: `does not apply to ${kind === 'addon' ? 'an add-on' : 'a win32 target'}: only apps and flights have package rollouts`,
      });
    else problems.push(...rampProblems(opts.rollout, source, 'options.rollout'));
  }
  if (problems.length || !kind)
    throw manifestError(problems.length ? problems : [{ file, field: 'target.kind', message: 'is required' }]);

  const options: ManifestOptions = {
    ...DEFAULT_OPTIONS,
    ...(isObject(root.options) ? root.options : {}),
    ...(isObject(overrides) ? overrides : {}),
  };
  return { target: root.target as Target, submission: structuredClone(submission), options };
}

/**
 * Validates options given outside the manifest (the HTTP start call) on their own, so a bad
 * request is refused before a run starts. Problems name `field` (e.g. "body.options.dryRun")
 * in the file "start request". Returns the options as given, without defaults.
 */
export function validateOptions(options: unknown, field = 'options'): Partial<ManifestOptions> {
  const problems = optionsSchemaProblems(options, START_REQUEST, field);
  if (problems.length) throw new InputError(problems, 'InvalidOptions');
  return structuredClone(options) as Partial<ManifestOptions>;
}

function kindOf(target: unknown): TargetKind | undefined {
  const kind = isObject(target) ? target.kind : undefined;
  return kind === 'app' || kind === 'flight' || kind === 'addon' || kind === 'win32' ? kind : undefined;
}

/** Every fileName (and a trailer's videoFileName) must be an entry of the zip. */
function fileReferenceProblems(
  submission: Record<string, unknown>,
  entries: ZipEntryInfo[],
  file: string,
): InputProblem[] {
  const files = new Map<string, ZipEntryInfo>();
  const folded = new Map<string, string>();
  const byBase = new Map<string, string[]>();
  for (const e of entries) {
    files.set(e.name, e);
    folded.set(e.name.toLowerCase(), e.name);
    const base = e.name.slice(e.name.lastIndexOf('/') + 1).toLowerCase();
    if (!e.directory) byBase.set(base, [...(byBase.get(base) ?? []), e.name]);
  }
  const problems: InputProblem[] = [];
  for (const ref of fileReferences(submission, 'submission')) {
    const path = zipPath(ref.value);
    const entry = files.get(path);
    if (entry?.directory) {
      problems.push({ file, field: ref.field, message: `"${ref.value}" is a folder in the zip, not a file` });
    } else if (!entry) {
      const sameButCase = folded.get(path.toLowerCase());
      const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
      const elsewhere = byBase.get(base) ?? [];
      const hint =
        path.startsWith('/') || path.startsWith('./')
          ? '; give the path relative to the zip root, without a leading "/" or "./"'
          : sameButCase
            ? `; the zip has "${sameButCase}" (names must match exactly, letter case included)`
            : elsewhere.length === 1
              ? `; did you mean "${elsewhere[0]}"?`
              : '';
      problems.push({
        file,
        field: ref.field,
        message: `"${ref.value}" is not in the zip${hint}${cp437Hint(entries)}`,
      });
    }
  }
  return problems;
}

/** fileName/videoFileName strings anywhere in the submission, with their dotted paths. */
export function fileReferences(value: unknown, path: string): Array<{ field: string; value: string }> {
  const out: Array<{ field: string; value: string }> = [];
  const walk = (v: unknown, at: string): void => {
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, `${at}[${i}]`));
    else if (isObject(v)) {
      for (const [k, child] of Object.entries(v)) {
        if ((k === 'fileName' || k === 'videoFileName') && typeof child === 'string' && child !== '')
          out.push({ field: join(at, k), value: child });
        else walk(child, join(at, k));
      }
    }
  };
  walk(value, path);
  return out;
}

function packageProblems(
  kind: TargetKind,
  submission: Record<string, unknown>,
  entries: ZipEntryInfo[],
  file: string,
): InputProblem[] {
  const key = packagesKey(kind);
  if (!key) return [];
  const listed = submission[key];
  const problems: InputProblem[] = [];
  if (Array.isArray(listed) && listed.length) {
    listed.forEach((p, i) => {
      const name = isObject(p) && typeof p.fileName === 'string' ? p.fileName : undefined;
      if (name && !isPackageFileName(name)) {
        problems.push({
          file,
          field: `submission.${key}[${i}].fileName`,
          message: `"${name}" is not a package (expected one of ${PACKAGE_EXTENSIONS.join(', ')})`,
        });
      }
    });
    return problems;
  }
  const found = entries.filter((e) => !e.directory && isPackageFileName(e.name));
  if (found.length > MAX_PACKAGES) {
    problems.push({
      file,
      field: `submission.${key}`,
      message: `is not given, so every package in the zip would be uploaded, but the zip has ${found.length}; the Store takes at most ${MAX_PACKAGES}: list the ones to upload`,
    });
  }
  return problems;
}

/**
 * A name missing from the zip may be there under another spelling: one without the UTF-8 flag
 * is read as code page 437, as the zip format says, and a Windows-1252 "é" then reads "Θ".
 */
function cp437Hint(entries: ZipEntryInfo[]): string {
  const legacy = entries.filter((e) => e.cp437);
  if (!legacy.length) return '';
  return `; note: ${legacy.length} name(s) in the zip, such as "${legacy[0]!.name}", have no UTF-8 flag and were read as code page 437, as the zip format says: if that is not the name you wrote, make the zip with a tool that writes UTF-8 names (store-submitter pack, 7-Zip)`;
}

function hintForSyntax(text: string): string {
  return text.trimStart().startsWith('{') ? '' : '; submission.json must hold one JSON object, starting with "{"';
}
