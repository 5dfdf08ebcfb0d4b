/**
 * The JSON of the Store's submission API for MSI/EXE apps, as windows-dev-docs
 * hub/apps/publish/store-submission-api.md documents it (field names and enums) and
 * msstore-cli MSStore.API/Models/*.cs reads it.
 */

/** A product of that API: an MSI or EXE app, named by its Partner Center id (a GUID). */
export interface Win32ProductRef {
  kind: 'win32';
  productId: string;
}

/** One entry of an answer's `errors` (errors and warnings alike). */
export interface Win32ResponseError {
  code: string;
  message: string;
  target: string;
}

export interface Win32ModuleStatus {
  isReady: boolean;
  /** Empty when no submission is in progress. */
  ongoingSubmissionId: string;
}

export type Win32Architecture = 'Neutral' | 'X86' | 'X64' | 'Arm' | 'Arm64';
export type Win32PackageType = 'exe' | 'msi';

export interface Win32ErrorDetail {
  errorScenario: string;
  errorScenarioDetails: Array<{ errorValue: string; errorUrl?: string }>;
}

export interface Win32Package {
  /** Set by the Store; a full update gives every package a new one. */
  packageId?: string;
  packageUrl: string;
  languages: string[];
  architectures: Win32Architecture[];
  isSilentInstall: boolean;
  installerParameters?: string;
  genericDocUrl?: string;
  errorDetails?: Win32ErrorDetail[];
  packageType: Win32PackageType;
}

export interface Win32Listing {
  language: string;
  description?: string;
  whatsNew?: string;
  productFeatures?: string[];
  shortDescription?: string;
  searchTerms?: string[];
  additionalLicenseTerms?: string;
  copyright?: string;
  developedBy?: string;
  sortTitle?: string;
  requirements?: Array<{ minimumHardware?: string; recommendedHardware?: string }>;
  contactInfo?: string;
}

export interface Win32Metadata {
  availability?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  listings?: Win32Listing[];
  listingLanguages?: Array<{ language: string; isComplete: boolean }>;
}

/** The body of PATCH (or PUT) metadata: one listing per request. */
export interface Win32MetadataUpdate {
  availability?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  listings?: Win32Listing;
  listingsToAdd?: string[];
  listingsToRemove?: string[];
}

export interface Win32ListingAsset {
  id: string;
  assetUrl: string;
  imageSize?: { width: number; height: number };
}

export interface Win32LanguageAssets {
  language: string;
  storeLogos: Win32ListingAsset[];
  screenshots: Win32ListingAsset[];
}

/** An asset slot made by Create Listing Assets: upload the image to one of its URLs, then commit its id. */
export interface Win32NewAsset {
  id: string;
  primaryAssetUploadUrl: string;
  secondaryAssetUploadUrl: string;
  httpMethod: string;
  httpHeaders: Record<string, string>;
}

export type Win32PublishingStatus = 'INPROGRESS' | 'PUBLISHED' | 'FAILED' | 'UNKNOWN';

export interface Win32SubmissionStatus {
  publishingStatus: Win32PublishingStatus;
  hasFailed: boolean;
}
