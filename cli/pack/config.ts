/** Section reader: store.json, the folder's settings (target, options, what the folder cannot express). */
import { fileReferences, parseJsonFile, zipPath, type TargetKind } from '../../lib/manifest';
import { CONFIG_FILE, CONFIG_KEYS, nearest } from './convention';
import type { Findings } from './findings';
import type { FolderSource } from './scan';

type Json = Record<string, unknown>;

export interface StoreConfig {
  /** store.json as written. */
  doc: Json;
  /** target.kind when it is one the Store has. */
  kind?: TargetKind;
  listingOnly: boolean;
  /** Its `submission`: fields added to what the folder gives. */
  submission: Json;
  /** Top-level names of the folder that `submission` refers to (a trailers/ folder, a custom image). */
  referenced: Set<string>;
}

/** Reads store.json; undefined when it is missing or unreadable (the problem is reported). */
export async function readStoreJson(source: FolderSource, findings: Findings): Promise<StoreConfig | undefined> {
  const bytes = await source.read(CONFIG_FILE);
  if (!bytes) {
    const near = (await source.list('')).find((e) => e.isFile() && nearest(e.name, [CONFIG_FILE]));
    findings.problem(
      CONFIG_FILE,
      `is missing: every release folder has a ${CONFIG_FILE} naming the target, e.g. {"target": {"kind": "app", "applicationId": "9NBLGGH4R315"}}` +
        (near ? `; the folder has "${near.name}"` : ''),
    );
    return undefined;
  }
  const parsed = parseJsonFile(bytes);
  if ('error' in parsed) {
    findings.problem(CONFIG_FILE, parsed.error);
    return undefined;
  }
  const doc = parsed.value;
  if (!isObject(doc)) {
    findings.problem(
      CONFIG_FILE,
      'must hold one JSON object: {"target": {...}, "options": {...}, "submission": {...}}',
    );
    return undefined;
  }
  for (const key of Object.keys(doc)) {
    if ((CONFIG_KEYS as readonly string[]).includes(key)) continue;
    const near = nearest(key, CONFIG_KEYS);
    findings.problem(
      CONFIG_FILE,
      `is not a key of ${CONFIG_FILE}${near ? `; did you mean "${near}"?` : `; known: ${CONFIG_KEYS.join(', ')}`}`,
      key,
    );
  }
  if (doc.listingOnly !== undefined && typeof doc.listingOnly !== 'boolean')
    findings.problem(CONFIG_FILE, 'must be true or false', 'listingOnly');
  const target = isObject(doc.target) ? doc.target : undefined;
  const submission = isObject(doc.submission) ? doc.submission : {};
  return {
    doc,
    kind: kindOf(target?.kind),
    listingOnly: doc.listingOnly === true,
    submission,
    referenced: new Set(fileReferences(submission, 'submission').map((r) => zipPath(r.value).split('/')[0] ?? '')),
  };
}

function kindOf(kind: unknown): TargetKind | undefined {
  return kind === 'app' || kind === 'flight' || kind === 'addon' || kind === 'win32' ? kind : undefined;
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
