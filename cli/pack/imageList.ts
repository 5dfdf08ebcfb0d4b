/**
 * images.json, the list of a product's published images that `pull` writes (the submission API
 * cannot download images): each with its language, image type and the path in the folder where
 * the PNG goes. `pack` checks the folder against it. A language with none of its images in place
 * gives no images, so the Store keeps the published ones; a language with some in place replaces
 * all of its published images (the Store's rule), so every image the list names must then be
 * there, or be taken off the list.
 */
import { parseJsonFile } from '../../lib/manifest';
import { isObject } from '../../lib/json';
import { ADDON_ICON, IMAGE_LIST_FILE, IMAGES_DIR, IMAGE_TYPES, LISTINGS_DIR } from './convention';
import type { Findings } from './findings';
import type { FolderSource } from './scan';

type Json = Record<string, unknown>;

export interface ListedImage {
  language: string;
  imageType: string;
  /** Where the PNG goes, relative to the release folder. */
  fileName: string;
  /** Its name in the published submission, for finding the file in Partner Center. */
  published?: string;
  /** Its published caption, when pull could not write it as a caption file. */
  description?: string;
}

/** Where the folder convention keeps an image of this language and type named `name`. */
export function imagePath(language: string, imageType: string, name: string): string {
  return imageType === 'Icon' && name === ADDON_ICON
    ? `${LISTINGS_DIR}/${language}/${ADDON_ICON}`
    : `${LISTINGS_DIR}/${language}/${IMAGES_DIR}/${imageType}/${name}`;
}

/** Reads images.json when there is one; its entries' paths go into `findings.listedImages`. */
export async function readImageList(source: FolderSource, findings: Findings): Promise<ListedImage[]> {
  const bytes = await source.read(IMAGE_LIST_FILE);
  if (!bytes) return [];
  const parsed = parseJsonFile(bytes);
  if ('error' in parsed) {
    findings.problem(IMAGE_LIST_FILE, parsed.error);
    return [];
  }
  const doc = parsed.value;
  if (!isObject(doc) || !Array.isArray(doc.images)) {
    findings.problem(IMAGE_LIST_FILE, 'must hold {"images": [{"language", "imageType", "fileName"}, ...]}');
    return [];
  }
  const out: ListedImage[] = [];
  doc.images.forEach((item: unknown, i) => {
    const field = `images[${i}]`;
    if (!isObject(item) || typeof item.language !== 'string' || typeof item.fileName !== 'string') {
      findings.problem(IMAGE_LIST_FILE, 'must have a language, an imageType and a fileName', field);
      return;
    }
    const image = item as Json as unknown as ListedImage;
    const name = image.fileName.split('/').at(-1) ?? '';
    const expected = imagePath(image.language, String(image.imageType), name);
    if (!IMAGE_TYPES.includes(String(image.imageType)) || image.fileName !== expected || !/\.png$/i.test(name)) {
      findings.problem(
        IMAGE_LIST_FILE,
        `"${image.fileName}" is not where the folder keeps a ${String(image.imageType)} image of ${image.language}: ${imagePath(image.language, String(image.imageType), '<name>.png')}`,
        `${field}.fileName`,
      );
      return;
    }
    findings.listedImages.add(image.fileName);
    out.push(image);
  });
  return out;
}

/**
 * Compares the list with the images the folder gave (`given`: folder paths per language). Missing
 * images of a language that gave none go into the summary; of one that gave some, they are problems.
 */
export function checkListedImages(
  listed: ListedImage[],
  given: Map<string, Set<string>>,
  present: (path: string) => boolean,
  findings: Findings,
): void {
  listed.forEach((image, i) => {
    if (present(image.fileName)) return;
    if (given.get(image.language)?.size) {
      findings.problem(
        IMAGE_LIST_FILE,
        `lists ${image.fileName}, which is not in the folder, while ${LISTINGS_DIR}/${image.language} gives other images: the Store replaces all of a language's published images with the ones given, so put it in place, or take it off the list to remove it from the listing`,
        `images[${i}]`,
      );
    } else findings.summary.missingImages.push(image.fileName);
  });
}
