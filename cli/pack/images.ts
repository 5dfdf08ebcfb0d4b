/**
 * Section reader: a listing's images (images/<image type>/<name>.png, each with an optional
 * caption <name>.txt) and the PNG checks every image and an add-on's icon go through: a PNG
 * signature, and for the icon its exact size.
 */
import { IMAGE_TYPES, nearest, pngSize } from './convention';
import type { Findings } from './findings';
import { byName, type FolderSource } from './scan';
import { readListingText } from './text';

type Json = Record<string, unknown>;

/** Reads images/ of a language folder (`rel`) into the manifest's image list at field `at`. */
export async function readImages(source: FolderSource, findings: Findings, rel: string, at: string): Promise<Json[]> {
  const out: Json[] = [];
  findings.cameFrom(at, rel);
  for (const { entry: typeEntry, rel: typeRel } of await source.entries(rel)) {
    const type = typeEntry.name;
    if (!typeEntry.isDirectory()) {
      findings.problem(typeRel, `images go in a folder named after their image type: ${rel}/<image type>/${type}`);
      continue;
    }
    if (!IMAGE_TYPES.includes(type)) {
      const near = nearest(type, IMAGE_TYPES);
      findings.problem(
        typeRel,
        `is not an image type${near ? `; did you mean "${near}"?` : `; the types are ${IMAGE_TYPES.join(', ')}`}`,
      );
      continue;
    }
    const entries = (await source.entries(typeRel)).map(({ entry }) => ({ name: entry.name, isFile: entry.isFile() }));
    const sorted = sortImageFolder(entries);
    for (const stray of sorted.strays) {
      // The caption pull wrote beside a published image that is still to be put in place.
      if (findings.listedImages.has(`${typeRel}/${stray.name.replace(/\.txt$/i, '.png')}`)) continue;
      findings.problem(`${typeRel}/${stray.name}`, stray.message);
    }
    if (sorted.empty) {
      findings.problem(typeRel, 'is empty: put the images in it, or remove the folder');
      continue;
    }
    for (const { png, caption } of sorted.images) {
      const fileRel = `${typeRel}/${png}`;
      if (!(await checkPng(source, findings, fileRel))) continue;
      const image: Json = { fileName: fileRel, imageType: type };
      if (caption !== undefined) {
        const text = await readListingText(source, findings, `${typeRel}/${caption}`, {
          field: 'description',
          kind: 'text',
        });
        if (text !== undefined) image.description = text;
      }
      findings.cameFrom(`${at}[${out.length}]`, fileRel);
      out.push(image);
      findings.addFile(fileRel);
    }
  }
  return out;
}

/**
 * The entries of one image-type folder sorted out: its PNGs in name order, each with the caption
 * file of the same name if there is one, and every other entry with why it does not belong.
 */
export function sortImageFolder(entries: Array<{ name: string; isFile: boolean }>): {
  images: Array<{ png: string; caption?: string }>;
  strays: Array<{ name: string; message: string }>;
  empty: boolean;
} {
  const pngs = entries.filter((e) => e.isFile && /\.png$/i.test(e.name));
  const strays: Array<{ name: string; message: string }> = [];
  for (const e of entries) {
    if (pngs.includes(e)) continue;
    const captionOf = e.name.replace(/\.txt$/i, '.png');
    if (e.isFile && /\.txt$/i.test(e.name) && entries.some((n) => n.name.toLowerCase() === captionOf.toLowerCase()))
      continue;
    strays.push({
      name: e.name,
      message: /\.txt$/i.test(e.name)
        ? `is a caption without its image: name it like the image, e.g. ${captionOf}`
        : 'is not a PNG image; the Store takes .png files (a .txt of the same name is the caption)',
    });
  }
  const images = [...pngs]
    .sort((a, b) => byName(a.name, b.name))
    .map((png) => {
      const caption = entries.find((e) => e.name.toLowerCase() === png.name.replace(/\.png$/i, '.txt').toLowerCase());
      return caption ? { png: png.name, caption: caption.name } : { png: png.name };
    });
  return { images, strays, empty: entries.length === 0 };
}

/** True when the file is a PNG (of `size`×`size` pixels when given); else reports why not. */
export async function checkPng(
  source: FolderSource,
  findings: Findings,
  fileRel: string,
  size?: number,
): Promise<boolean> {
  const problem = pngProblem(await source.head(fileRel, 24), size);
  if (problem) findings.problem(fileRel, problem);
  return !problem;
}

/** Why the first 24 bytes of a file are not those of a PNG (of `size`×`size` pixels), if they are not. */
export function pngProblem(head: Buffer, size?: number): string | undefined {
  const dims = pngSize(head);
  if (!dims) return 'is not a PNG image (its first bytes are not a PNG signature); the Store takes PNG files';
  if (size !== undefined && (dims.width !== size || dims.height !== size))
    return `is ${dims.width}x${dims.height} pixels; the Store takes exactly ${size}x${size}`;
  return undefined;
}
