/**
 * What reading a release folder gathers as it goes: the problems (each naming the folder file
 * it is about), the files the zip will hold, and where each manifest field came from, so that
 * a problem the pipeline's validation finds in a field can be traced back to the file that
 * produced it.
 */
import { join as joinPath, posix } from 'node:path';
import { InputError, type InputProblem } from '../../lib/errors';
import type { TargetKind } from '../../lib/manifest';
import { unsafeNameReason } from '../../lib/zip/blobZip';
import { CONFIG_FILE } from './convention';

/** A file that goes into the zip as it is. */
export interface PackedFile {
  /** Path inside the zip (and inside the folder), "/"-separated. */
  name: string;
  path: string;
  size: number;
}

export interface ReleaseFolder {
  /** The submission.json the zip will carry. */
  manifest: Record<string, unknown>;
  files: PackedFile[];
  summary: {
    kind?: TargetKind;
    packages: string[];
    listings: Record<string, { fields: string[]; images: number }>;
    /** Images images.json lists that are not in the folder yet (their languages keep the published images). */
    missingImages: string[];
    /** The package version release notes were chosen by, and the file each language took them from. */
    releaseNotes?: { version?: string; files: string[] };
  };
}

export class Findings {
  readonly problems: InputProblem[] = [];
  readonly files = new Map<string, PackedFile>();
  readonly summary: ReleaseFolder['summary'] = { packages: [], listings: {}, missingImages: [] };
  /** Images images.json lists (folder paths): a caption beside one not yet in place is not a stray. */
  readonly listedImages = new Set<string>();
  /** Field path of the manifest → folder file it came from ('' is the folder itself). */
  private readonly origins: Array<[string, string]> = [];

  /** `label` is how messages show the folder (as the user named it). */
  constructor(
    readonly dir: string,
    readonly label: string,
  ) {}

  /** A folder-relative path as messages show it. */
  show(rel: string): string {
    return rel === '' ? `${this.label}/` : posix.join(this.label.replace(/\\/g, '/'), rel);
  }

  problem(rel: string, message: string, field?: string): void {
    this.problems.push({ file: this.show(rel), field, message });
  }

  /** Records that the manifest field `field`, and everything below it, came from the folder file `rel`. */
  cameFrom(field: string, rel: string): void {
    this.origins.push([field, rel]);
  }

  /** The folder file a manifest field came from: the longest recorded prefix, else store.json. */
  originOf(field: string): string {
    let best: [string, string] | undefined;
    for (const o of this.origins) {
      const [prefix] = o;
      if (field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`)) {
        if (!best || prefix.length > best[0].length) best = o;
      }
    }
    return best ? best[1] : CONFIG_FILE;
  }

  /** Records a file for the zip (its size is read once the folder has been read). */
  addFile(rel: string): void {
    if (this.files.has(rel)) return;
    const unsafe = unsafeNameReason(rel);
    if (unsafe) {
      this.problem(rel, `cannot be a zip entry: its name ${unsafe}`);
      return;
    }
    this.files.set(rel, { name: rel, path: joinPath(this.dir, rel), size: 0 });
  }
}

export function folderError(problems: InputProblem[]): InputError {
  return new InputError(problems, 'InvalidFolder');
}
