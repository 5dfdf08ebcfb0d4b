/**
 * What a win32 run changes in the draft, in the order it changes it, and how each change is put
 * back: pure decisions, so the orchestrator only walks the list. The order is the docs' sample
 * order (windows-dev-docs hub/apps/publish/store-submission-api.md, C# and Node.js samples):
 * packages and their commit first, then metadata, then listing assets, then submit; the
 * removal of languages comes last, just before the submit, because it cannot be fully undone
 * (their images go with them).
 */
import type { Manifest } from '../manifest/types';
import { win32Spec } from './manifest';

export type Win32Change =
  /** PUT the package set, then commit it: the Store downloads the new URLs. */
  | { change: 'packages' }
  /** PATCH properties and/or availability. */
  | { change: 'modules' }
  /** PATCH one listing; `add`: the draft had no such language (listingsToAdd). */
  | { change: 'listing'; language: string; add: boolean }
  /** Replace a language's screenshots and/or logos. */
  | { change: 'images'; language: string }
  | { change: 'removeListings'; languages: string[] };

export function planChanges(manifest: Pick<Manifest, 'submission'>, draftLanguages: string[]): Win32Change[] {
  const spec = win32Spec(manifest);
  const have = new Set(draftLanguages.map((l) => l.toLowerCase()));
  const plan: Win32Change[] = [];
  if (spec.packages?.length) plan.push({ change: 'packages' });
  if (spec.properties || spec.availability) plan.push({ change: 'modules' });
  const languages = new Set(
    [...Object.keys(spec.listings ?? {}), ...Object.keys(spec.listingAssets ?? {})].map((l) => l.toLowerCase()),
  );
  for (const language of [...languages].sort()) {
    const listing = Object.entries(spec.listings ?? {}).find(([k]) => k.toLowerCase() === language)?.[1];
    const add = !have.has(language);
    if (listing || add) plan.push({ change: 'listing', language, add });
    const images = Object.entries(spec.listingAssets ?? {}).find(([k]) => k.toLowerCase() === language)?.[1];
    if (images && (images.screenshots || images.storeLogos)) plan.push({ change: 'images', language });
  }
  const remove = (spec.listingsToRemove ?? []).map((l) => l.toLowerCase()).filter((l) => have.has(l));
  if (remove.length) plan.push({ change: 'removeListings', languages: remove });
  return plan;
}

/** A short name for the timeline and messages. */
export function describeChange(c: Win32Change): string {
  switch (c.change) {
    case 'packages':
      return 'packages';
    case 'modules':
      return 'properties and availability';
    case 'listing':
      return `${c.add ? 'new ' : ''}listing ${c.language}`;
    case 'images':
      return `images ${c.language}`;
    case 'removeListings':
      return `removal of listings ${c.languages.join(', ')}`;
  }
}
