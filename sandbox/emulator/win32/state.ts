/**
 * The products of the emulated MSI/EXE submission API and their current draft: packages (given
 * by URL), the listings, properties and availability modules, listing assets, and the
 * submissions made from the draft. Field names and shapes are those of the API's reference page
 * (windows-dev-docs hub/apps/publish/store-submission-api.md) and of msstore-cli's models
 * (MSStore.API/Models/*.cs).
 */
import { randomInt } from 'node:crypto';

export type Json = Record<string, unknown>;

/** `publishingStatus` of the Submission Status Polling API. */
export const PUBLISHING_STATUSES = ['INPROGRESS', 'PUBLISHED', 'FAILED', 'UNKNOWN'] as const;
export type PublishingStatus = (typeof PUBLISHING_STATUSES)[number];

/** One entry of every answer's `errors` list. */
export interface ResponseError {
  code: string;
  message: string;
  target: string;
}

export interface ErrorScenarioDetail {
  errorValue: string;
  errorUrl: string;
}

export interface ErrorDetail {
  errorScenario: string;
  errorScenarioDetails: ErrorScenarioDetail[];
}

export interface Win32Package {
  packageId: string;
  packageUrl: string;
  languages: string[];
  architectures: string[];
  isSilentInstall: boolean;
  installerParameters: string;
  genericDocUrl: string;
  errorDetails: ErrorDetail[];
  packageType: string;
}

export interface ListingRequirement {
  minimumHardware: string;
  recommendedHardware: string;
}

export interface Win32Listing {
  language: string;
  description: string;
  whatsNew: string;
  productFeatures: string[];
  shortDescription: string;
  searchTerms: string[];
  additionalLicenseTerms: string;
  copyright: string;
  developedBy: string;
  sortTitle: string;
  requirements: ListingRequirement[];
  contactInfo: string;
}

export interface ListingAsset {
  id: string;
  assetUrl: string;
  imageSize: { width: number; height: number };
}

export interface LanguageAssets {
  storeLogos: ListingAsset[];
  screenshots: ListingAsset[];
}

export type AssetKind = 'storeLogos' | 'screenshots';

/** An asset slot made by Create Listing Assets, waiting for its upload and the commit that names it. */
export interface PendingAsset {
  id: string;
  productId: string;
  language: string;
  kind: AssetKind;
  /** The blob behind both upload URLs in the emulator's ingestion storage. */
  blobName: string;
  primaryAssetUploadUrl: string;
  secondaryAssetUploadUrl: string;
  expiresAt: number;
}

/** What a submission is made of: a copy of the draft. */
export interface DraftContent {
  packages: Win32Package[];
  properties: Json;
  availability: Json;
  listings: Map<string, Win32Listing>;
  assets: Map<string, LanguageAssets>;
}

/** Why the draft is not ready to be changed or submitted. */
export interface ModuleState {
  /** Package updates not committed yet (PUT/PATCH packages without POST packages/commit). */
  stagedPackages?: Win32Package[];
  /** A packages commit whose URLs are being downloaded, then processed. */
  packageUpload?: { startedAt: number; urls: string[] };
  /** The last packages commit failed: the errors its status shows until the next commit. */
  packageErrors: ResponseError[];
  /** Metadata or asset processing ends at this time (ms). */
  busyUntil: number;
}

export interface Win32Submission {
  submissionId: string;
  productId: string;
  createdIn: 'API' | 'PartnerCenter';
  status: PublishingStatus;
  hasFailed: boolean;
  errors: ResponseError[];
  statusHistory: Array<{ status: PublishingStatus; at: string }>;
  /** The draft as it was submitted. */
  content: DraftContent;
  createdAt: string;
}

export interface Win32Product {
  /** A GUID, lower-case: Partner Center's id of an MSI/EXE product (msstore-cli ProductTypeHelper). */
  productId: string;
  name: string;
  draft: DraftContent;
  modules: ModuleState;
  /** The submission in progress, if any (its status is INPROGRESS or UNKNOWN). */
  ongoingSubmissionId?: string;
  lastPublishedSubmissionId?: string;
}

export function emptyListing(language: string): Win32Listing {
  return {
    language,
    description: '',
    whatsNew: '',
    productFeatures: [],
    shortDescription: '',
    searchTerms: [],
    additionalLicenseTerms: '',
    copyright: '',
    developedBy: '',
    sortTitle: '',
    requirements: [],
    contactInfo: '',
  };
}

/** The Properties module as a full-module update leaves it when a field is not given. */
export function defaultProperties(): Json {
  return {
    isPrivacyPolicyRequired: false,
    privacyPolicyUrl: '',
    website: '',
    supportContactInfo: '',
    certificationNotes: '',
    category: '',
    subcategory: '',
    productDeclarations: { dependsOnDriversOrNT: false, accessibilitySupport: false, penAndInkSupport: false },
    isSystemFeatureRequired: [],
    systemRequirementDetails: [],
  };
}

export function defaultAvailability(): Json {
  return { markets: [], discoverability: 'DISCOVERABLE', enableInFutureMarkets: false, pricing: 'FREE', freeTrial: '' };
}

export function copyContent(c: DraftContent): DraftContent {
  return {
    packages: structuredClone(c.packages),
    properties: structuredClone(c.properties),
    availability: structuredClone(c.availability),
    listings: new Map([...c.listings].map(([k, v]) => [k, structuredClone(v)])),
    assets: new Map([...c.assets].map(([k, v]) => [k, structuredClone(v)])),
  };
}

/** Ids as the API hands them out: decimal strings longer than a double holds exactly. */
export class IdSource {
  private next = 1152921504700_000_000n + BigInt(randomInt(0, 100_000)) * 1000n;

  nextId(): string {
    this.next += BigInt(randomInt(1, 40));
    return this.next.toString();
  }
}

export class Win32Store {
  readonly products = new Map<string, Win32Product>();
  readonly submissions = new Map<string, Win32Submission>();
  readonly pendingAssets = new Map<string, PendingAsset>();
  readonly ids = new IdSource();

  clear(): void {
    this.products.clear();
    this.submissions.clear();
    this.pendingAssets.clear();
  }

  /** Product ids are GUIDs; paths may spell them in either case. */
  product(productId: string): Win32Product | undefined {
    return this.products.get(productId.toLowerCase());
  }

  /** The draft's package set as the API shows it: the staged (uncommitted) one while there is one. */
  packagesOf(product: Win32Product): Win32Package[] {
    return product.modules.stagedPackages ?? product.draft.packages;
  }
}

/** What `languages` asks for: a comma separated filter (spaces allowed), at most 200, or all. */
export function languageFilter(raw: string | null): ((language: string) => boolean) | { tooMany: number } {
  if (raw === null || raw.trim() === '') return () => true;
  const wanted = raw
    .split(',')
    .map((l) => l.trim().toLowerCase())
    .filter(Boolean);
  if (wanted.length > 200) return { tooMany: wanted.length };
  const set = new Set(wanted);
  return (language) => set.has(language.toLowerCase());
}
