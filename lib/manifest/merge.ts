/**
 * Building the submission to PUT: the Store's clone of the last published submission with the
 * manifest's fields merged on top. Objects merge key by key; every other value, arrays included,
 * replaces. Packages and images are the exception the Store imposes: leaving an old file out of
 * the PUT keeps it, so old ones are kept and marked PendingDelete, and new ones are PendingUpload.
 */
import { isObject } from '../json';
import type { ZipEntryInfo } from '../zip/format';
import { isPackageFileName, Manifest, packagesKey, TargetKind, zipPath } from './types';

type Json = Record<string, unknown>;

/** Pure: merge the manifest's `submission` onto the Store's cloned submission for that kind and set fileStatus of packages/images. Returns a new object; never mutates its input. */
export function mergeSubmission(kind: TargetKind, cloned: Json, manifest: Manifest, entries: ZipEntryInfo[]): Json {
  const patch = manifest.submission;
  const merged = mergeValue(cloned, patch) as Json;

  const key = packagesKey(kind);
  if (key) {
    const listed = Array.isArray(patch[key]) ? (patch[key] as unknown[]) : [];
    const fresh = (
      listed.length
        ? listed.filter(isObject)
        : entries.filter((e) => !e.directory && isPackageFileName(e.name)).map((e) => ({ fileName: e.name }))
    ).map((p) => ({
      minimumDirectXVersion: 'None',
      minimumSystemRam: 'None',
      ...structuredClone(p),
      fileStatus: 'PendingUpload',
    }));
    const old = Array.isArray(cloned[key]) ? structuredClone(cloned[key] as unknown[]) : [];
    if (fresh.length) merged[key] = [...(manifest.options.packages === 'add' ? old : old.map(pendingDelete)), ...fresh];
    // No new package (a listing-only update) keeps the published packages as they are.
    else if (key in cloned) merged[key] = old;
    else delete merged[key];
  }

  const patchListings = isObject(patch.listings) ? patch.listings : {};
  const oldListings = isObject(cloned.listings) ? cloned.listings : {};
  const mergedListings = isObject(merged.listings) ? merged.listings : {};
  for (const [lang, patchListing] of Object.entries(patchListings)) {
    const target = mergedListings[lang];
    if (!isObject(patchListing) || !isObject(target)) continue;
    const oldListing = isObject(oldListings[lang]) ? oldListings[lang] : {};
    if (kind === 'addon') {
      if (isObject(patchListing.icon) && isObject(target.icon)) target.icon.fileStatus = 'PendingUpload';
      continue;
    }
    replaceImages(target.baseListing, patchListing.baseListing, get(oldListing, 'baseListing'));
    const patchOverrides = get(patchListing, 'platformOverrides');
    if (isObject(patchOverrides)) {
      for (const platform of Object.keys(patchOverrides)) {
        replaceImages(
          get(target.platformOverrides, platform),
          patchOverrides[platform],
          get(get(oldListing, 'platformOverrides'), platform),
        );
      }
    }
  }
  // A ramp's first step is the submission's own gradual rollout (lib/ramp.ts); the Store sets its status at publication.
  const first = manifest.options.rollout?.[0];
  if ((kind === 'app' || kind === 'flight') && typeof first?.percentage === 'number') {
    const delivery = isObject(merged.packageDeliveryOptions) ? merged.packageDeliveryOptions : {};
    const rollout = isObject(delivery.packageRollout) ? delivery.packageRollout : {};
    merged.packageDeliveryOptions = {
      ...delivery,
      packageRollout: { ...rollout, isPackageRollout: true, packageRolloutPercentage: first.percentage },
    };
  }
  return merged;
}

/** Every file the merged submission expects in the zip (PendingUpload entries, and new trailers' files), as zip entry paths. */
export function pendingUploads(kind: TargetKind, merged: Json): string[] {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) {
      if (v.fileStatus === 'PendingUpload' && typeof v.fileName === 'string') names.add(zipPath(v.fileName));
      Object.values(v).forEach(walk);
    }
  };
  walk(merged);
  if (kind === 'app' && Array.isArray(merged.trailers)) {
    // Trailers have no fileStatus: one without an id is new, and its files come from the zip.
    for (const t of merged.trailers.filter(isObject)) {
      if (t.id !== undefined && t.id !== null && t.id !== '') continue;
      if (typeof t.videoFileName === 'string') names.add(zipPath(t.videoFileName));
      for (const assets of Object.values(isObject(t.trailerAssets) ? t.trailerAssets : {})) {
        for (const image of Array.isArray(get(assets, 'imageList')) ? (get(assets, 'imageList') as unknown[]) : []) {
          const fileName = get(image, 'fileName');
          if (typeof fileName === 'string') names.add(zipPath(fileName));
        }
      }
    }
  }
  return [...names];
}

function replaceImages(target: unknown, patch: unknown, old: unknown): void {
  if (!isObject(target) || !isObject(patch) || !Array.isArray(patch.images)) return;
  const before = Array.isArray(get(old, 'images')) ? structuredClone(get(old, 'images') as unknown[]) : [];
  target.images = [
    ...before.map(pendingDelete),
    ...patch.images.filter(isObject).map((i) => ({ ...structuredClone(i), fileStatus: 'PendingUpload' })),
  ];
}

function pendingDelete(item: unknown): unknown {
  return isObject(item) ? { ...item, fileStatus: 'PendingDelete' } : item;
}

function mergeValue(base: unknown, patch: unknown): unknown {
  if (!isObject(base) || !isObject(patch)) return structuredClone(patch);
  const out = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    // defineProperty: a "__proto__" key from JSON must stay an ordinary field.
    Object.defineProperty(out, k, {
      value: mergeValue(out[k], v),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function get(v: unknown, key: string): unknown {
  return isObject(v) ? v[key] : undefined;
}
