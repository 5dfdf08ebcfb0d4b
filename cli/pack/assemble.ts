/**
 * Assembling the manifest: what the folder gives, plus what store.json's `submission` adds (a
 * field given both ways is a mistake, reported on store.json and naming the folder file), plus
 * the files store.json refers to, which must be in the folder.
 */
import { fieldPath, zipPath, fileReferences } from '../../lib/manifest';
import { unsafeNameReason } from '../../lib/zip/blobZip';
import { CONFIG_FILE } from './convention';
import { isObject, type StoreConfig } from './config';
import type { Findings } from './findings';
import type { FolderSource } from './scan';

type Json = Record<string, unknown>;

/** The manifest of the folder: store.json's target and options, the folder's submission with store.json's added. */
export async function assemble(
  source: FolderSource,
  findings: Findings,
  config: StoreConfig | undefined,
  submission: Json,
): Promise<Json> {
  const extra = config?.submission ?? {};
  for (const field of mergeInto(submission, extra, 'submission')) {
    const from = findings.originOf(field);
    findings.problem(CONFIG_FILE, `is also given by ${findings.show(from)}; keep one`, field);
  }
  for (const ref of fileReferences(extra, 'submission')) await addReferenced(source, findings, ref.field, ref.value);
  await Promise.all(
    [...findings.files.values()].map(async (f) => {
      f.size = await source.size(f.name);
    }),
  );
  const manifest: Json = { target: config?.doc.target };
  if (Object.keys(submission).length) manifest.submission = submission;
  if (config && config.doc.options !== undefined) manifest.options = config.doc.options;
  return manifest;
}

/** Adds `extra` into `base` key by key; returns the field paths both give a value for (other than two objects). */
export function mergeInto(base: Json, extra: Json, path: string): string[] {
  const clashes: string[] = [];
  for (const [k, v] of Object.entries(extra)) {
    const at = fieldPath(path, k);
    if (!(k in base)) base[k] = structuredClone(v);
    else if (isObject(base[k]) && isObject(v)) clashes.push(...mergeInto(base[k], v, at));
    else clashes.push(at);
  }
  return clashes;
}

/** A file store.json's submission names (a trailer, a custom image): it must be in the folder. */
async function addReferenced(source: FolderSource, findings: Findings, field: string, value: string): Promise<void> {
  const name = zipPath(value);
  const unsafe = unsafeNameReason(name);
  if (unsafe) {
    findings.problem(CONFIG_FILE, `"${value}" ${unsafe}; give the path relative to the release folder`, field);
    return;
  }
  const kind = await source.kind(name);
  if (kind !== 'file') {
    findings.problem(
      CONFIG_FILE,
      `"${value}" is not ${kind ? 'a file' : 'in the release folder'}; paths are relative to the folder`,
      field,
    );
    return;
  }
  findings.addFile(name);
}
