import { randomInt } from 'node:crypto';
import { clone, isRecord } from './http';

export type Json = Record<string, unknown>;
export type ProductKind = 'application' | 'flight' | 'inappproduct';
export type CreatedIn = 'API' | 'PartnerCenter';

export const STATUSES = [
  'None',
  'Canceled',
  'PendingCommit',
  'CommitStarted',
  'CommitFailed',
  'PendingPublication',
  'Publishing',
  'Published',
  'PublishFailed',
  'PreProcessing',
  'PreProcessingFailed',
  'Certification',
  'CertificationFailed',
  'Release',
  'ReleaseFailed',
] as const;
export type SubmissionStatus = (typeof STATUSES)[number];

export interface Issue {
  code: string;
  details: string;
}
export interface StatusDetails {
  errors: Issue[];
  warnings: Issue[];
  certificationReports: Array<{ date: string; reportUrl: string }>;
}

interface ProductBase {
  pendingSubmissionId?: string;
  lastPublishedSubmissionId?: string;
  /** Used to name clones "Submission N", as Partner Center does. */
  submissionCount: number;
}
export interface Application extends ProductBase {
  kind: 'application';
  id: string;
  primaryName: string;
  packageFamilyName: string;
  packageIdentityName: string;
  publisherName: string;
  firstPublishedDate?: string;
  hasAdvancedListingPermission: boolean;
  /** The app uses Partner Center features the API does not support: every call on it answers 409. */
  unsupportedFeatures: boolean;
  /** False: the age ratings questionnaire was never completed; a commit fails with InvalidMicrosoftAgeRating. */
  ageRatingsCompleted: boolean;
  /** Partner Center shows validation errors the API cannot: a commit fails with InvalidState. */
  activeValidationErrors: boolean;
}
export interface Flight extends ProductBase {
  kind: 'flight';
  flightId: string;
  applicationId: string;
  friendlyName: string;
  groupIds: string[];
  rankHigherThan: string | null;
}
export interface AddOn extends ProductBase {
  kind: 'inappproduct';
  id: string;
  productId: string;
  productType: 'Durable' | 'Consumable';
  applicationIds: string[];
  /** A Store-managed consumable (or other feature the API does not support): every call on it answers 409. */
  unsupportedFeatures: boolean;
}
export type Product = Application | Flight | AddOn;

export interface UploadTarget {
  blobName: string;
  url: string;
  expiresOn: string;
}

export interface Submission {
  id: string;
  kind: ProductKind;
  /** App id, flight id or add-on id: the product this submission belongs to. */
  productId: string;
  applicationId?: string;
  createdIn: CreatedIn;
  status: SubmissionStatus;
  statusDetails: StatusDetails;
  statusHistory: Array<{ status: SubmissionStatus; at: string }>;
  /** Every other field, exactly as the API shows it. */
  data: Json;
  /** Where the API client uploads its zip; null for submissions created in Partner Center. */
  upload: UploadTarget | null;
  createdAt: string;
}

export function emptyStatusDetails(): StatusDetails {
  return { errors: [], warnings: [], certificationReports: [] };
}

export function productId(p: Product): string {
  return p.kind === 'flight' ? p.flightId : p.id;
}

export function productPath(p: Product): string {
  if (p.kind === 'application') return `applications/${p.id}`;
  if (p.kind === 'flight') return `applications/${p.applicationId}/flights/${p.flightId}`;
  return `inappproducts/${p.id}`;
}

export function submissionLocation(p: Product, submissionId: string): string {
  // A flight's references are relative to its app: flights/{flightId}/submissions/{id}
  // (get-flights-for-an-app.md; windows-dev-center-vsts-extension store-flight-V1/flight.ts).
  if (p.kind === 'flight') return `flights/${p.flightId}/submissions/${submissionId}`;
  return `${productPath(p)}/submissions/${submissionId}`;
}

/**
 * Submission and package ids: 19-digit decimal strings above 2^53, like the real ones, so a client
 * that parses them as numbers corrupts them and fails visibly.
 */
export class IdSource {
  private next = 1152921504621_000_000n + BigInt(randomInt(0, 100_000)) * 1000n;

  constructor(private readonly taken: (id: string) => boolean) {}

  nextId(): string {
    for (;;) {
      this.next += BigInt(randomInt(1, 40));
      const id = this.next.toString();
      if (!this.taken(id)) return id;
    }
  }
}

const STORE_ID_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ0123456789';
export function newStoreId(): string {
  let id = '9N';
  for (let i = 0; i < 10; i++) id += STORE_ID_ALPHABET[randomInt(STORE_ID_ALPHABET.length)];
  return id;
}

export const PACKAGE_ROLLOUT_NOT_STARTED = {
  isPackageRollout: false,
  packageRolloutPercentage: 0,
  packageRolloutStatus: 'PackageRolloutNotStarted',
  fallbackSubmissionId: '0',
};

/** A submission with nothing in it, for a product that was never published. */
export function blankSubmissionData(kind: ProductKind, friendlyName: string): Json {
  const deliveryOptions = {
    packageRollout: { ...PACKAGE_ROLLOUT_NOT_STARTED },
    isMandatoryUpdate: false,
    mandatoryUpdateEffectiveDate: '1601-01-01T00:00:00.0000000Z',
  };
  if (kind === 'flight') {
    return {
      flightPackages: [],
      packageDeliveryOptions: deliveryOptions,
      targetPublishMode: 'Immediate',
      targetPublishDate: null,
      notesForCertification: '',
    };
  }
  if (kind === 'inappproduct') {
    return {
      contentType: 'NotSet',
      keywords: [],
      lifetime: 'Forever',
      listings: {},
      pricing: { marketSpecificPricings: {}, sales: [], priceId: 'Free', isAdvancedPricingModel: true },
      targetPublishDate: null,
      targetPublishMode: 'Immediate',
      tag: '',
      visibility: 'Public',
      friendlyName,
    };
  }
  return {
    applicationCategory: 'NotSet',
    pricing: {
      trialPeriod: 'NoFreeTrial',
      marketSpecificPricings: {},
      sales: [],
      priceId: 'Free',
      isAdvancedPricingModel: true,
    },
    visibility: 'Public',
    targetPublishMode: 'Immediate',
    targetPublishDate: null,
    listings: {},
    hardwarePreferences: [],
    automaticBackupEnabled: false,
    canInstallOnRemovableMedia: true,
    isGameDvrEnabled: false,
    // Partner Center keeps one gaming options object per app submission (manage-app-submissions.md).
    gamingOptions: [defaultGamingOptions()],
    hasExternalInAppProducts: false,
    meetAccessibilityGuidelines: true,
    notesForCertification: '',
    applicationPackages: [],
    packageDeliveryOptions: deliveryOptions,
    enterpriseLicensing: 'Online',
    allowMicrosoftDecideAppAvailabilityToFutureDeviceFamilies: true,
    allowTargetFutureDeviceFamilies: { Desktop: true, Mobile: false, Holographic: false, Xbox: false, Team: false },
    friendlyName,
    trailers: [],
    isSeekEnabled: false,
  };
}

export function defaultGamingOptions(): Json {
  return {
    genres: [],
    isLocalMultiplayer: false,
    isLocalCooperative: false,
    isOnlineMultiplayer: false,
    isOnlineCooperative: false,
    localMultiplayerMinPlayers: 0,
    localMultiplayerMaxPlayers: 0,
    localCooperativeMinPlayers: 0,
    localCooperativeMaxPlayers: 0,
    isBroadcastingPrivilegeGranted: true,
    isCrossPlayEnabled: false,
    kinectDataForExternal: 'Disabled',
  };
}

export interface FileRef {
  /** Where in the submission: `applicationPackages[0]`, `listings.en-us.baseListing.images[2]`, `listings.en-us.icon`. */
  where: string;
  entry: Json;
}

/** Every file entry (packages, listing images, add-on icons) of a submission, by reference so callers may edit them. */
export function fileEntries(sub: { kind: ProductKind; data: Json }): FileRef[] {
  const out: FileRef[] = [];
  const each = (list: unknown, where: string): void => {
    if (!Array.isArray(list)) return;
    list.forEach((entry, i) => {
      if (isRecord(entry)) out.push({ where: `${where}[${i}]`, entry });
    });
  };
  const listings = isRecord(sub.data.listings) ? sub.data.listings : {};
  if (sub.kind === 'application') {
    each(sub.data.applicationPackages, 'applicationPackages');
    for (const [lang, listing] of Object.entries(listings)) {
      if (!isRecord(listing)) continue;
      if (isRecord(listing.baseListing)) each(listing.baseListing.images, `listings.${lang}.baseListing.images`);
      if (isRecord(listing.platformOverrides)) {
        for (const [platform, override] of Object.entries(listing.platformOverrides)) {
          if (isRecord(override)) each(override.images, `listings.${lang}.platformOverrides.${platform}.images`);
        }
      }
    }
  } else if (sub.kind === 'flight') {
    each(sub.data.flightPackages, 'flightPackages');
  } else {
    for (const [lang, listing] of Object.entries(listings)) {
      if (isRecord(listing) && isRecord(listing.icon))
        out.push({ where: `listings.${lang}.icon`, entry: listing.icon });
    }
  }
  return out;
}

/** The package list field of a submission kind (add-ons have none). */
export function packageField(kind: ProductKind): 'applicationPackages' | 'flightPackages' | undefined {
  return kind === 'application' ? 'applicationPackages' : kind === 'flight' ? 'flightPackages' : undefined;
}

/** The in-memory store of products and submissions. */
export class Store {
  readonly applications = new Map<string, Application>();
  readonly flights = new Map<string, Flight>();
  readonly addOns = new Map<string, AddOn>();
  readonly submissions = new Map<string, Submission>();
  readonly ids = new IdSource((id) => this.submissions.has(id) || this.packageIds.has(id));
  /** Package and image ids handed out, so that no two objects share an id. */
  readonly packageIds = new Set<string>();
  /** What PreProcessing read from each processed package (by package id): its architectures and versions. */
  readonly packageUnits = new Map<string, Array<{ architecture: string; version: string }>>();

  clear(): void {
    this.packageUnits.clear();
    this.applications.clear();
    this.flights.clear();
    this.addOns.clear();
    this.submissions.clear();
    this.packageIds.clear();
  }

  // Store ids are upper-case and flight ids are GUIDs, but paths are case-insensitive.
  application(id: string): Application | undefined {
    return this.applications.get(id.toUpperCase());
  }
  flight(applicationId: string, flightId: string): Flight | undefined {
    const flight = this.flights.get(flightId.toLowerCase());
    return flight && flight.applicationId === applicationId.toUpperCase() ? flight : undefined;
  }
  addOn(id: string): AddOn | undefined {
    return this.addOns.get(id.toUpperCase());
  }
  flightsOf(applicationId: string): Flight[] {
    return [...this.flights.values()].filter((f) => f.applicationId === applicationId.toUpperCase());
  }
  addOnsOf(applicationId: string): AddOn[] {
    return [...this.addOns.values()].filter((a) => a.applicationIds.includes(applicationId.toUpperCase()));
  }
  /** The product a submission belongs to. */
  productOf(sub: Submission): Product | undefined {
    if (sub.kind === 'application') return this.application(sub.productId);
    if (sub.kind === 'flight') return this.flights.get(sub.productId.toLowerCase());
    return this.addOn(sub.productId);
  }
  /** A submission of this product, or undefined (ids of other products' submissions are unknown here). */
  submissionOf(product: Product, submissionId: string): Submission | undefined {
    const sub = this.submissions.get(submissionId);
    return sub && sub.kind === product.kind && sub.productId === productId(product) ? sub : undefined;
  }

  addSubmission(
    product: Product,
    init: {
      id?: string;
      createdIn: CreatedIn;
      status: SubmissionStatus;
      data: Json;
      upload: UploadTarget | null;
      statusDetails?: StatusDetails;
    },
  ): Submission {
    const id = init.id ?? this.ids.nextId();
    const now = new Date().toISOString();
    const sub: Submission = {
      id,
      kind: product.kind,
      productId: productId(product),
      applicationId:
        product.kind === 'application' ? product.id : product.kind === 'flight' ? product.applicationId : undefined,
      createdIn: init.createdIn,
      status: init.status,
      statusDetails: init.statusDetails ?? emptyStatusDetails(),
      statusHistory: [{ status: init.status, at: now }],
      data: init.data,
      upload: init.upload,
      createdAt: now,
    };
    for (const ref of fileEntries(sub)) {
      if (typeof ref.entry.id === 'string') this.packageIds.add(ref.entry.id);
    }
    this.submissions.set(id, sub);
    product.submissionCount++;
    return sub;
  }

  renderApplication(app: Application): Json {
    const out: Json = {
      id: app.id,
      primaryName: app.primaryName,
      packageFamilyName: app.packageFamilyName,
      packageIdentityName: app.packageIdentityName,
      publisherName: app.publisherName,
    };
    if (app.firstPublishedDate) out.firstPublishedDate = app.firstPublishedDate;
    if (app.lastPublishedSubmissionId) out.lastPublishedApplicationSubmission = ref(app, app.lastPublishedSubmissionId);
    if (app.pendingSubmissionId) out.pendingApplicationSubmission = ref(app, app.pendingSubmissionId);
    out.hasAdvancedListingPermission = app.hasAdvancedListingPermission;
    return out;
  }

  renderFlight(flight: Flight): Json {
    const out: Json = { flightId: flight.flightId, friendlyName: flight.friendlyName };
    if (flight.lastPublishedSubmissionId)
      out.lastPublishedFlightSubmission = ref(flight, flight.lastPublishedSubmissionId);
    if (flight.pendingSubmissionId) out.pendingFlightSubmission = ref(flight, flight.pendingSubmissionId);
    out.groupIds = [...flight.groupIds];
    out.rankHigherThan = flight.rankHigherThan;
    return out;
  }

  renderAddOn(addOn: AddOn): Json {
    const out: Json = {
      applications: {
        value: addOn.applicationIds.map((id) => ({ id, resourceLocation: `applications/${id}` })),
        totalCount: addOn.applicationIds.length,
      },
      id: addOn.id,
      productId: addOn.productId,
      productType: addOn.productType,
    };
    if (addOn.pendingSubmissionId) out.pendingInAppProductSubmission = ref(addOn, addOn.pendingSubmissionId);
    if (addOn.lastPublishedSubmissionId)
      out.lastPublishedInAppProductSubmission = ref(addOn, addOn.lastPublishedSubmissionId);
    return out;
  }

  renderSubmission(sub: Submission): Json {
    const head: Json = { id: sub.id };
    if (sub.kind === 'flight') head.flightId = sub.productId;
    const data = clone(sub.data);
    // Without advanced listing permission gamingOptions and trailers are null (manage-app-submissions.md notes).
    if (sub.kind === 'application' && this.application(sub.productId)?.hasAdvancedListingPermission === false) {
      data.gamingOptions = null;
      data.trailers = null;
    }
    return {
      ...head,
      ...data,
      status: sub.status,
      statusDetails: clone(sub.statusDetails),
      fileUploadUrl: sub.upload?.url ?? null,
    };
  }
}

function ref(p: Product, submissionId: string): { id: string; resourceLocation: string } {
  return { id: submissionId, resourceLocation: submissionLocation(p, submissionId) };
}
