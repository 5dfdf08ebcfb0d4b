/**
 * The file-system side of reading a release folder, and the first pass over its root: which
 * entry is the listings folder, which are packages, which do not belong. Everything else reads
 * the folder through `FolderSource`.
 */
import type { Dirent } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  INSTALLER_EXTENSIONS,
  isInstallerFileName,
  isPackageFileName,
  MANIFEST_NAME,
  PACKAGE_EXTENSIONS,
  type TargetKind,
} from '../../lib/manifest';
import { CONFIG_FILE, IMAGE_LIST_FILE, isIgnoredName, LISTINGS_DIR, nearest } from './convention';
import type { Findings } from './findings';

/** Reads the release folder, by paths relative to it. */
export class FolderSource {
  constructor(readonly dir: string) {}

  path(rel: string): string {
    return join(this.dir, rel);
  }

  /** The entries of a folder, in name order (numbers counted as numbers: 2 before 10). */
  async list(rel: string): Promise<Dirent[]> {
    const entries = await readdir(this.path(rel), { withFileTypes: true });
    return entries.sort((a, b) => byName(a.name, b.name));
  }

  /** The entries of a folder that belong to a release (none isIgnoredName's), in name order, each with its path. */
  async entries(rel: string): Promise<Array<{ entry: Dirent; rel: string }>> {
    return (await this.list(rel))
      .filter((entry) => !isIgnoredName(entry.name))
      .map((entry) => ({ entry, rel: `${rel}/${entry.name}` }));
  }

  /** The file's bytes, or undefined when there is no such file. */
  async read(rel: string): Promise<Buffer | undefined> {
    return readFile(this.path(rel)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
      return undefined;
    });
  }

  async size(rel: string): Promise<number> {
    return (await stat(this.path(rel))).size;
  }

  /** What is at `rel`, or undefined when nothing is. */
  async kind(rel: string): Promise<'file' | 'directory' | 'other' | undefined> {
    const info = await stat(this.path(rel)).catch(() => undefined);
    if (!info) return undefined;
    return info.isFile() ? 'file' : info.isDirectory() ? 'directory' : 'other';
  }

  /** Up to `length` bytes from the start of the file. */
  async head(rel: string, length: number): Promise<Buffer> {
    const file = await open(this.path(rel), 'r');
    try {
      const head = Buffer.alloc(length);
      const { bytesRead } = await file.read(head, 0, length, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }
}

export interface RootScan {
  /** The listings folder, when there is one. */
  listings?: Dirent;
  /** Package files at the root, in name order. */
  packages: string[];
}

/**
 * Sorts the root's entries into the listings folder and the packages, and reports every other
 * entry, except store.json, files every OS leaves behind, and the top-level names store.json's
 * submission refers to (`referenced`: a trailers/ folder, a custom image).
 */
export async function scanRoot(
  source: FolderSource,
  findings: Findings,
  referenced: Set<string>,
  kind?: TargetKind,
): Promise<RootScan> {
  const scan: RootScan = { packages: [] };
  for (const entry of await source.list('')) {
    const name = entry.name;
    if (name === CONFIG_FILE || name === IMAGE_LIST_FILE || isIgnoredName(name) || referenced.has(name)) continue;
    if (entry.isDirectory() && name === LISTINGS_DIR) scan.listings = entry;
    else if (kind === 'win32' && entry.isFile() && isInstallerFileName(name))
      // The installers store.json lists are referenced (skipped above); one it does not list has no languages or switches.
      findings.problem(
        name,
        `is not in ${CONFIG_FILE} submission.packages, which lists the installers with their languages, architectures and install switches; add it there or remove the file`,
      );
    else if (entry.isFile() && isPackageFileName(name)) scan.packages.push(name);
    else findings.problem(name, strayRootMessage(entry, kind));
  }
  scan.packages.sort(byName);
  return scan;
}

export function strayRootMessage(entry: Pick<Dirent, 'name' | 'isDirectory' | 'isFile'>, kind?: TargetKind): string {
  const near = entry.isDirectory() ? nearest(entry.name, [LISTINGS_DIR]) : undefined;
  if (near) return `is not a folder of the convention; did you mean "${near}"?`;
  if (entry.isFile() && entry.name.toLowerCase() === MANIFEST_NAME)
    return `is written by pack; the folder's settings go in ${CONFIG_FILE}`;
  const packages =
    kind === 'win32'
      ? `installers (${INSTALLER_EXTENSIONS.join(', ')}) that ${CONFIG_FILE} lists`
      : `package files (${PACKAGE_EXTENSIONS.join(', ')})`;
  return `is not part of a release folder: ${packages} go at the root, listings under ${LISTINGS_DIR}/<language>/, settings in ${CONFIG_FILE}; other files only when ${CONFIG_FILE} names them`;
}

export function byName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
