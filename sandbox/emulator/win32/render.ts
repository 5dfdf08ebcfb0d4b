/** The JSON the API answers with, field for field as in the reference page's samples. */
import type { Json, LanguageAssets, Win32Listing, Win32Package, Win32Product } from './state';

export function renderPackage(p: Win32Package): Json {
  return {
    packageId: p.packageId,
    packageUrl: p.packageUrl,
    languages: [...p.languages],
    architectures: [...p.architectures],
    isSilentInstall: p.isSilentInstall,
    installerParameters: p.installerParameters,
    genericDocUrl: p.genericDocUrl,
    errorDetails: structuredClone(p.errorDetails),
    packageType: p.packageType,
  };
}

export function renderListing(l: Win32Listing): Json {
  return {
    language: l.language,
    description: l.description,
    whatsNew: l.whatsNew,
    productFeatures: [...l.productFeatures],
    shortDescription: l.shortDescription,
    searchTerms: [...l.searchTerms],
    additionalLicenseTerms: l.additionalLicenseTerms,
    copyright: l.copyright,
    developedBy: l.developedBy,
    sortTitle: l.sortTitle,
    requirements: structuredClone(l.requirements),
    contactInfo: l.contactInfo,
  };
}

export function renderAssets(language: string, a: LanguageAssets | undefined): Json {
  return {
    language,
    storeLogos: structuredClone(a?.storeLogos ?? []),
    screenshots: structuredClone(a?.screenshots ?? []),
  };
}

/**
 * A listing is complete with a description and at least one screenshot ("The minimum required for
 * the Store listings step to be considered complete is a text description and at least one
 * screenshot", hub/apps/publish/publish-your-app/msi/create-app-store-listing.md) and its 1:1 box
 * art logo ("Required: 1:1 box art", .../msi/screenshots-and-images.md).
 */
export function listingProblems(product: Win32Product, language: string): string[] {
  const l = product.draft.listings.get(language);
  const a = product.draft.assets.get(language);
  const missing: string[] = [];
  if (!l?.description.trim()) missing.push('a description');
  if (!a?.screenshots.length) missing.push('at least one screenshot');
  if (!a?.storeLogos.some((x) => x.imageSize.width === x.imageSize.height)) missing.push('a 1:1 store logo');
  return missing;
}

export function listingLanguages(product: Win32Product): Json[] {
  return [...product.draft.listings.keys()].map((language) => ({
    language,
    isComplete: listingProblems(product, language).length === 0,
  }));
}
