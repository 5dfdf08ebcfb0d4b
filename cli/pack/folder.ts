/**
 * Reads a release folder (see README "Command line") into the manifest and the list of files
 * the zip will hold. Every problem found is collected, each naming the file in the folder it
 * is about; the manifest is then checked with the pipeline's own `validateManifest`, whose
 * problems are traced back to the file that produced the field.
 */
import type { Dirent } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join as joinPath, posix } from 'node:path';
import { InputError, isInputError, type InputProblem } from '../../lib/errors';
import {
  isPackageFileName,
  MANIFEST_NAME,
  PACKAGE_EXTENSIONS,
  packagesKey,
  validateManifest,
  zipPath,
  type TargetKind,
} from '../../lib/manifest';
import { join } from '../../lib/manifest/schema';
import { decodeManifest, JsonSyntaxError, parseJson } from '../../lib/manifest/text';
import { fileReferences } from '../../lib/manifest/validate';
import { unsafeNameReason } from '../../lib/zip/blobZip';
import type { ZipEntryInfo } from '../../lib/zip/format';
import {
  ADDON_ICON,
  ADDON_ICON_SIZE,
  ADDON_LISTING_FIELDS,
  APP_LISTING_FIELDS,
  CONFIG_FILE,
  CONFIG_KEYS,
  IMAGE_TYPES,
  IMAGES_DIR,
  isIgnoredName,
  LISTINGS_DIR,
  nearest,
  pngSize,
  type TextField,
} from './convention';

type Json = Record<string, unknown>;

/** A file that goes into the zip as it is. */
export interface PackedFile {
  /** Path inside the zip (and inside the folder), "/"-separated. */
  name: string;
  path: string;
  size: number;
}

export interface ReleaseFolder {
  /** The submission.json the zip will carry. */
  manifest: Json;
  files: PackedFile[];
  summary: {
    kind?: TargetKind;
    packages: string[];
    listings: Record<string, { fields: string[]; images: number }>;
  };
}

/** Text files are a few KiB; a larger one was put there by mistake. */
const MAX_TEXT_BYTES = 256 * 1024;

/**
 * Reads `dir` into a manifest and its files; throws InputError (code InvalidFolder) naming every
 * problem, with `file` relative to the folder as `label` shows it.
 */
export async function readReleaseFolder(dir: string, label = dir): Promise<ReleaseFolder> {
  return new FolderReader(dir, label.replace(/[\\/]+$/, '') || '.').read();
}

class FolderReader {
  private readonly problems: InputProblem[] = [];
  private readonly files = new Map<string, PackedFile>();
  /** Field path of the manifest → folder file it came from, to point validation problems at the right file. */
  private readonly origins: Array<[string, string]> = [];
  private readonly summary: ReleaseFolder['summary'] = { packages: [], listings: {} };

  constructor(
    private readonly dir: string,
    private readonly label: string,
  ) {}

  private show(rel: string): string {
    return rel === '' ? `${this.label}/` : posix.join(this.label.replace(/\\/g, '/'), rel);
  }

  private problem(rel: string, message: string, field?: string): void {
    this.problems.push({ file: this.show(rel), field, message });
  }

  async read(): Promise<ReleaseFolder> {
    const root = await stat(this.dir).catch(() => undefined);
    if (!root?.isDirectory()) {
      throw folderError([
        { file: this.show(''), message: root ? 'is a file, not a release folder' : 'does not exist' },
      ]);
    }
    const config = await this.readConfig();
    const target = isObject(config?.target) ? config.target : undefined;
    const kind = kindOf(target?.kind);
    const listingOnly = config?.listingOnly === true;
    const configSubmission = isObject(config?.submission) ? config.submission : {};
    const configFiles = new Set(
      fileReferences(configSubmission, 'submission').map((r) => zipPath(r.value).split('/')[0] ?? ''),
    );

    const submission: Json = {};
    const packages: string[] = [];
    let listings: Dirent | undefined;
    for (const entry of await this.list('')) {
      const name = entry.name;
      if (name === CONFIG_FILE || isIgnoredName(name) || configFiles.has(name)) continue;
      if (entry.isDirectory() && name === LISTINGS_DIR) listings = entry;
      else if (entry.isFile() && isPackageFileName(name)) packages.push(name);
      else this.problem(name, this.strayRootMessage(entry));
    }

    packages.sort(byName);
    const key = kind ? packagesKey(kind) : undefined;
    if (listingOnly && kind && kind !== 'app')
      this.problem(
        CONFIG_FILE,
        'is for app submissions only (an update of the listings that keeps the packages)',
        'listingOnly',
      );
    if (kind === 'addon') {
      for (const p of packages)
        this.problem(p, 'add-ons have no packages; remove it, or set target.kind in store.json');
    } else if (key) {
      const listed = configSubmission[key];
      const listedInConfig = Array.isArray(listed);
      if (listingOnly && packages.length)
        this.problem(
          CONFIG_FILE,
          `is true, but the folder has ${packages.length} package(s) at its root; remove them, or listingOnly`,
          'listingOnly',
        );
      if (listedInConfig) {
        // store.json lists the packages (to give their options): a package file it does not name is a mistake.
        for (const p of packages)
          this.problem(
            p,
            `is not in ${CONFIG_FILE} submission.${key}, which lists the packages to upload; add it there or remove the file`,
          );
        this.summary.packages = listed.filter(isObject).map((p) => String(p.fileName));
      } else if (!packages.length && !listingOnly) {
        this.problem(
          '',
          kind === 'flight'
            ? `has no package: a flight submission needs at least one package file (${PACKAGE_EXTENSIONS.join(', ')}) at the folder's root`
            : `has no package: put the app's package files (${PACKAGE_EXTENSIONS.join(', ')}) at the folder's root; for an update of the listings only, which keeps the published packages, set "listingOnly": true in ${CONFIG_FILE}`,
        );
      } else if (packages.length) {
        submission[key] = packages.map((fileName) => ({ fileName }));
        packages.forEach((p, i) => {
          this.origins.push([`submission.${key}[${i}]`, p]);
          this.addFile(p);
        });
        this.origins.push([`submission.${key}`, '']);
        this.summary.packages = packages;
      }
    }

    if (listings) {
      if (kind === 'flight')
        this.problem(
          LISTINGS_DIR,
          'flights have no Store listings; remove the folder, or set target.kind in store.json',
        );
      else if (kind) {
        const built = await this.readListings(kind);
        if (Object.keys(built).length) submission.listings = built;
      }
    }

    // store.json's `submission` adds the fields the folder cannot express; a field given both ways is a mistake.
    for (const field of mergeInto(submission, configSubmission, 'submission')) {
      const from = this.originOf(field);
      this.problem(CONFIG_FILE, `is also given by ${this.show(from)}; keep one`, field);
    }
    for (const ref of fileReferences(configSubmission, 'submission')) await this.addReferenced(ref.field, ref.value);
    await Promise.all(
      [...this.files.values()].map(async (f) => {
        f.size = (await stat(f.path)).size;
      }),
    );

    const manifest: Json = { target: config?.target };
    if (Object.keys(submission).length) manifest.submission = submission;
    if (config && config.options !== undefined) manifest.options = config.options;
    if (config) this.validate(manifest);

    if (this.problems.length) throw folderError(this.problems);
    this.summary.kind = kind;
    return { manifest, files: [...this.files.values()], summary: this.summary };
  }

  private async readConfig(): Promise<Json | undefined> {
    const bytes = await readFile(joinPath(this.dir, CONFIG_FILE)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
      return undefined;
    });
    if (!bytes) {
      const near = (await this.list('')).find((e) => e.isFile() && nearest(e.name, [CONFIG_FILE]));
      this.problem(
        CONFIG_FILE,
        `is missing: every release folder has a ${CONFIG_FILE} naming the target, e.g. {"target": {"kind": "app", "applicationId": "9NBLGGH4R315"}}` +
          (near ? `; the folder has "${near.name}"` : ''),
      );
      return undefined;
    }
    const decoded = decodeManifest(bytes);
    if ('error' in decoded) {
      this.problem(CONFIG_FILE, decoded.error);
      return undefined;
    }
    let doc: unknown;
    try {
      doc = parseJson(decoded.text);
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      this.problem(CONFIG_FILE, e.message);
      return undefined;
    }
    if (!isObject(doc)) {
      this.problem(CONFIG_FILE, 'must hold one JSON object: {"target": {...}, "options": {...}, "submission": {...}}');
      return undefined;
    }
    for (const key of Object.keys(doc)) {
      if ((CONFIG_KEYS as readonly string[]).includes(key)) continue;
      const near = nearest(key, CONFIG_KEYS);
      this.problem(
        CONFIG_FILE,
        `is not a key of ${CONFIG_FILE}${near ? `; did you mean "${near}"?` : `; known: ${CONFIG_KEYS.join(', ')}`}`,
        key,
      );
    }
    if (doc.listingOnly !== undefined && typeof doc.listingOnly !== 'boolean')
      this.problem(CONFIG_FILE, 'must be true or false', 'listingOnly');
    return doc;
  }

  private strayRootMessage(entry: Dirent): string {
    const near = entry.isDirectory() ? nearest(entry.name, [LISTINGS_DIR]) : undefined;
    if (near) return `is not a folder of the convention; did you mean "${near}"?`;
    if (entry.isFile() && entry.name.toLowerCase() === MANIFEST_NAME)
      return `is written by pack; the folder's settings go in ${CONFIG_FILE}`;
    return `is not part of a release folder: package files (${PACKAGE_EXTENSIONS.join(', ')}) go at the root, listings under ${LISTINGS_DIR}/<language>/, settings in ${CONFIG_FILE}; other files only when ${CONFIG_FILE} names them`;
  }

  private async readListings(kind: TargetKind): Promise<Json> {
    const out: Json = {};
    for (const langEntry of await this.list(LISTINGS_DIR)) {
      const lang = langEntry.name;
      const rel = `${LISTINGS_DIR}/${lang}`;
      if (isIgnoredName(lang)) continue;
      if (!langEntry.isDirectory()) {
        this.problem(
          rel,
          `is not a language folder: listings go in ${LISTINGS_DIR}/<language>/, e.g. ${LISTINGS_DIR}/en-us/`,
        );
        continue;
      }
      const at = join(join('submission', 'listings'), lang);
      this.origins.push([at, rel]);
      const listing = kind === 'addon' ? await this.readAddonListing(rel, at) : await this.readAppListing(rel, at);
      if (!listing) continue;
      out[lang] = listing.value;
      this.summary.listings[lang] = { fields: listing.fields, images: listing.images };
    }
    return out;
  }

  private async readAppListing(
    rel: string,
    at: string,
  ): Promise<{ value: Json; fields: string[]; images: number } | undefined> {
    const base: Json = {};
    const fields: string[] = [];
    let images = 0;
    const baseAt = join(at, 'baseListing');
    for (const entry of await this.list(rel)) {
      const name = entry.name;
      if (isIgnoredName(name)) continue;
      const fileRel = `${rel}/${name}`;
      if (entry.isDirectory() && name === IMAGES_DIR) {
        const list = await this.readImages(fileRel, join(baseAt, 'images'));
        if (list.length) {
          base.images = list;
          images = list.length;
        }
        continue;
      }
      const field = this.textField(entry, fileRel, APP_LISTING_FIELDS, `, and images in ${IMAGES_DIR}/<image type>/`);
      if (!field) continue;
      const value = await this.readText(fileRel, field);
      if (value === undefined) continue;
      base[field.field] = value;
      fields.push(field.field);
      this.origins.push([join(baseAt, field.field), fileRel]);
    }
    if (!fields.length && !images) {
      // A folder whose files were all refused has had its problems reported already.
      if (!(await this.list(rel)).some((e) => !isIgnoredName(e.name)))
        this.problem(rel, 'is empty: give at least one listing file, or remove the folder');
      return undefined;
    }
    return { value: { baseListing: base }, fields, images };
  }

  private async readAddonListing(
    rel: string,
    at: string,
  ): Promise<{ value: Json; fields: string[]; images: number } | undefined> {
    const listing: Json = {};
    const fields: string[] = [];
    let images = 0;
    for (const entry of await this.list(rel)) {
      const name = entry.name;
      if (isIgnoredName(name)) continue;
      const fileRel = `${rel}/${name}`;
      if (entry.isFile() && name === ADDON_ICON) {
        if (await this.checkPng(fileRel, ADDON_ICON_SIZE)) {
          listing.icon = { fileName: fileRel };
          images = 1;
          this.origins.push([join(at, 'icon'), fileRel]);
          this.addFile(fileRel);
        }
        continue;
      }
      if (entry.isDirectory() && name === IMAGES_DIR) {
        this.problem(
          fileRel,
          `add-on listings have no images but one icon: ${rel}/${ADDON_ICON} (a ${ADDON_ICON_SIZE}x${ADDON_ICON_SIZE} PNG)`,
        );
        continue;
      }
      const field = this.textField(entry, fileRel, ADDON_LISTING_FIELDS, `, and the icon ${ADDON_ICON}`);
      if (!field) continue;
      const value = await this.readText(fileRel, field);
      if (value === undefined) continue;
      listing[field.field] = value;
      fields.push(field.field);
      this.origins.push([join(at, field.field), fileRel]);
    }
    if (!fields.length && !images) {
      // A folder whose files were all refused has had its problems reported already.
      if (!(await this.list(rel)).some((e) => !isIgnoredName(e.name)))
        this.problem(rel, 'is empty: give at least one listing file, or remove the folder');
      return undefined;
    }
    return { value: listing, fields, images };
  }

  /** The listing field a file in a language folder stands for, or a problem saying why it is not one. */
  private textField(entry: Dirent, fileRel: string, known: readonly TextField[], more: string): TextField | undefined {
    const names = known.map((f) => `${f.field}.txt`);
    const index = entry.isFile() ? names.indexOf(entry.name) : -1;
    if (index >= 0) return known[index];
    const near = nearest(entry.name, names) ?? nearest(entry.name.replace(/\.[^.]*$/, '.txt'), names);
    this.problem(
      fileRel,
      near
        ? `is not a listing file; did you mean "${near}"?`
        : `is not a listing file; a language folder holds ${names.join(', ')}${more}`,
    );
    return undefined;
  }

  private async readText(fileRel: string, spec: TextField): Promise<string | string[] | undefined> {
    const path = joinPath(this.dir, fileRel);
    const { size } = await stat(path);
    if (size > MAX_TEXT_BYTES) {
      this.problem(fileRel, `is ${size} bytes; listing text files are small (at most ${MAX_TEXT_BYTES / 1024} KiB)`);
      return undefined;
    }
    const decoded = decodeManifest(await readFile(path));
    if ('error' in decoded) {
      this.problem(fileRel, decoded.error);
      return undefined;
    }
    const text = decoded.text.replace(/\r\n?/g, '\n');
    if (spec.kind === 'text') {
      const value = text.trim();
      if (!value) {
        this.problem(fileRel, `is empty; write the ${spec.field}, or delete the file to keep the published one`);
        return undefined;
      }
      if (spec.maxLength !== undefined && value.length > spec.maxLength) {
        this.problem(fileRel, `is ${value.length} characters long; the Store takes at most ${spec.maxLength}`);
        return undefined;
      }
      return value;
    }
    const lines = text.split('\n').map((line, i) => ({ line: line.trim(), n: i + 1 }));
    const items = lines.filter((l) => l.line !== '');
    const item = spec.item ?? 'item';
    let ok = true;
    if (!items.length) {
      this.problem(fileRel, `is empty; write one ${item} per line, or delete the file to keep the published ones`);
      return undefined;
    }
    if (spec.maxItems !== undefined && items.length > spec.maxItems) {
      this.problem(fileRel, `has ${items.length} ${item}s (one per line); the Store takes at most ${spec.maxItems}`);
      ok = false;
    }
    for (const { line, n } of items) {
      if (spec.maxLength !== undefined && line.length > spec.maxLength) {
        this.problem(
          fileRel,
          `line ${n} is ${line.length} characters long; the Store takes at most ${spec.maxLength} per ${item}`,
        );
        ok = false;
      }
    }
    if (spec.maxWords !== undefined) {
      const words = items.reduce((sum, { line }) => sum + line.split(/\s+/).length, 0);
      if (words > spec.maxWords) {
        this.problem(
          fileRel,
          `has ${words} words in all; the Store takes at most ${spec.maxWords} across all ${item}s`,
        );
        ok = false;
      }
    }
    return ok ? items.map((l) => l.line) : undefined;
  }

  private async readImages(rel: string, at: string): Promise<Json[]> {
    const out: Json[] = [];
    this.origins.push([at, rel]);
    for (const typeEntry of await this.list(rel)) {
      const type = typeEntry.name;
      const typeRel = `${rel}/${type}`;
      if (isIgnoredName(type)) continue;
      if (!typeEntry.isDirectory()) {
        this.problem(typeRel, `images go in a folder named after their image type: ${rel}/<image type>/${type}`);
        continue;
      }
      if (!IMAGE_TYPES.includes(type)) {
        const near = nearest(type, IMAGE_TYPES);
        this.problem(
          typeRel,
          `is not an image type${near ? `; did you mean "${near}"?` : `; the types are ${IMAGE_TYPES.join(', ')}`}`,
        );
        continue;
      }
      const entries = (await this.list(typeRel)).filter((e) => !isIgnoredName(e.name));
      const names = new Set(entries.map((e) => e.name));
      const pngs = entries.filter((e) => e.isFile() && /\.png$/i.test(e.name));
      for (const e of entries) {
        if (pngs.includes(e)) continue;
        const captionOf = e.name.replace(/\.txt$/i, '.png');
        if (e.isFile() && /\.txt$/i.test(e.name) && [...names].some((n) => n.toLowerCase() === captionOf.toLowerCase()))
          continue;
        this.problem(
          `${typeRel}/${e.name}`,
          /\.txt$/i.test(e.name)
            ? `is a caption without its image: name it like the image, e.g. ${captionOf}`
            : 'is not a PNG image; the Store takes .png files (a .txt of the same name is the caption)',
        );
      }
      if (!pngs.length && entries.length === 0) {
        this.problem(typeRel, 'is empty: put the images in it, or remove the folder');
        continue;
      }
      for (const png of pngs.sort((a, b) => byName(a.name, b.name))) {
        const fileRel = `${typeRel}/${png.name}`;
        if (!(await this.checkPng(fileRel))) continue;
        const image: Json = { fileName: fileRel, imageType: type };
        const captionName = entries.find(
          (e) => e.name.toLowerCase() === png.name.replace(/\.png$/i, '.txt').toLowerCase(),
        );
        if (captionName) {
          const caption = await this.readText(`${typeRel}/${captionName.name}`, { field: 'description', kind: 'text' });
          if (caption !== undefined) image.description = caption;
        }
        this.origins.push([`${at}[${out.length}]`, fileRel]);
        out.push(image);
        this.addFile(fileRel);
      }
    }
    return out;
  }

  /** True when the file is a PNG (of `size`×`size` pixels when given). */
  private async checkPng(fileRel: string, size?: number): Promise<boolean> {
    const file = await open(joinPath(this.dir, fileRel), 'r');
    let head: Buffer;
    try {
      head = Buffer.alloc(24);
      const { bytesRead } = await file.read(head, 0, 24, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
    const dims = pngSize(head);
    if (!dims) {
      this.problem(fileRel, 'is not a PNG image (its first bytes are not a PNG signature); the Store takes PNG files');
      return false;
    }
    if (size !== undefined && (dims.width !== size || dims.height !== size)) {
      this.problem(fileRel, `is ${dims.width}x${dims.height} pixels; the Store takes exactly ${size}x${size}`);
      return false;
    }
    return true;
  }

  /** A file store.json's submission names (a trailer, a custom image): it must be in the folder. */
  private async addReferenced(field: string, value: string): Promise<void> {
    const name = zipPath(value);
    const unsafe = unsafeNameReason(name);
    if (unsafe) {
      this.problem(CONFIG_FILE, `"${value}" ${unsafe}; give the path relative to the release folder`, field);
      return;
    }
    const info = await stat(joinPath(this.dir, name)).catch(() => undefined);
    if (!info?.isFile()) {
      this.problem(
        CONFIG_FILE,
        `"${value}" is not ${info ? 'a file' : 'in the release folder'}; paths are relative to the folder`,
        field,
      );
      return;
    }
    this.addFile(name);
  }

  /** Records a file for the zip (its size is read before validation). */
  private addFile(rel: string): void {
    if (this.files.has(rel)) return;
    const unsafe = unsafeNameReason(rel);
    if (unsafe) {
      this.problem(rel, `cannot be a zip entry: its name ${unsafe}`);
      return;
    }
    this.files.set(rel, { name: rel, path: joinPath(this.dir, rel), size: 0 });
  }

  private async list(rel: string): Promise<Dirent[]> {
    const entries = await readdir(joinPath(this.dir, rel), { withFileTypes: true });
    return entries.sort((a, b) => byName(a.name, b.name));
  }

  /** The folder file a manifest field came from: the longest recorded prefix, else store.json. */
  private originOf(field: string): string {
    let best: [string, string] | undefined;
    for (const o of this.origins) {
      const [prefix] = o;
      if (field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`)) {
        if (!best || prefix.length > best[0].length) best = o;
      }
    }
    return best ? best[1] : CONFIG_FILE;
  }

  /** The pipeline's validation of the manifest this folder makes, over the entries the zip will have. */
  private validate(manifest: Json): void {
    const entries: ZipEntryInfo[] = [
      { name: MANIFEST_NAME, directory: false, compressedSize: 0, uncompressedSize: 0 },
      ...[...this.files.values()].map((f) => ({
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
        const from = p.field ? this.originOf(p.field) : CONFIG_FILE;
        this.problems.push({ file: this.show(from), field: p.field, message: p.message });
      }
    }
  }
}

function folderError(problems: InputProblem[]): InputError {
  return new InputError(problems, 'InvalidFolder');
}

/** Adds `extra` into `base` key by key; returns the paths both give a value for (other than two objects). */
function mergeInto(base: Json, extra: Json, path: string): string[] {
  const clashes: string[] = [];
  for (const [k, v] of Object.entries(extra)) {
    const at = join(path, k);
    if (!(k in base)) base[k] = structuredClone(v);
    else if (isObject(base[k]) && isObject(v)) clashes.push(...mergeInto(base[k], v, at));
    else clashes.push(at);
  }
  return clashes;
}

function kindOf(kind: unknown): TargetKind | undefined {
  return kind === 'app' || kind === 'flight' || kind === 'addon' ? kind : undefined;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function byName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
