import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { clone, isRecord } from './http';
import {
  type AddOn,
  type Application,
  type CreatedIn,
  type Flight,
  type Json,
  type Product,
  STATUSES,
  type StatusDetails,
  type Store,
  type SubmissionStatus,
  type UploadTarget,
  blankSubmissionData,
  emptyStatusDetails,
  fileEntries,
} from './state';

/**
 * A submission in seed data: the JSON the API would return for it (any field left out takes the
 * value of a blank submission), plus `createdIn` for a pending one. `fileUploadUrl` is ignored:
 * API-created pending submissions get a fresh one, Partner Center ones get null.
 */
export interface SeedSubmission {
  id?: string;
  /** Pending submissions only; default PendingCommit. Published ones are always Published. */
  status?: string;
  statusDetails?: Partial<StatusDetails>;
  /** Pending submissions only; default 'API'. 'PartnerCenter' ones refuse API writes. */
  createdIn?: CreatedIn;
  [field: string]: unknown;
}

export interface SeedFlight {
  /** GUID; generated when absent. */
  flightId?: string;
  friendlyName: string;
  groupIds?: string[];
  rankHigherThan?: string | null;
  published?: SeedSubmission;
  pending?: SeedSubmission;
}

export interface SeedApplication {
  /** 12-character Store id, e.g. 9NBLGGH4R315. */
  id: string;
  primaryName: string;
  packageFamilyName?: string;
  packageIdentityName?: string;
  publisherName?: string;
  firstPublishedDate?: string;
  hasAdvancedListingPermission?: boolean;
  /** Every call on this app answers 409 InvalidState, like an app using features the API does not support. */
  unsupportedFeatures?: boolean;
  /** Default true. False: commits fail with InvalidMicrosoftAgeRating (the questionnaire was never completed). */
  ageRatingsCompleted?: boolean;
  /** Default false. True: commits fail with InvalidState, errors only Partner Center can show. */
  activeValidationErrors?: boolean;
  /** Absent: the app was never published, and the API cannot make its first submission. */
  published?: SeedSubmission;
  pending?: SeedSubmission;
  flights?: SeedFlight[];
}

export interface SeedInAppProduct {
  id: string;
  productId: string;
  productType: 'Durable' | 'Consumable';
  /** Exactly one application id in practice. */
  applicationIds: string[];
  /** A Store-managed consumable, which the API does not support: every call on it answers 409. */
  unsupportedFeatures?: boolean;
  published?: SeedSubmission;
  pending?: SeedSubmission;
}

export interface SeedData {
  applications?: SeedApplication[];
  inAppProducts?: SeedInAppProduct[];
}

export type SeedOption = 'default' | 'none' | SeedData;

/** Ids of the default seed, for tests and demos. */
export const SEED_IDS = {
  demoApp: '9NBLGGH4R315',
  demoAppPublishedSubmission: '1152921504621243540',
  demoFlight: '43e448df-97c9-4a43-a0bc-2a445e736bcd',
  demoFlightPublishedSubmission: '1152921504621243649',
  demoAddOn: '9NBLGGH4TNNR',
  demoAddOnProductId: 'demo-addon',
  demoAddOnPublishedSubmission: '1152921504621230023',
  /** Its pending submission was created in Partner Center: API writes get 400 InvalidOperation. */
  portalApp: '9NBLGGH4PRTL',
  portalAppPendingSubmission: '1152921504621250001',
  /** Uses features the API does not support: every call answers 409. */
  unsupportedApp: '9NBLGGH4UNSP',
  /** Its published submission has a package rollout in progress. */
  rolloutApp: '9NBLGGH4RLLT',
  rolloutAppPublishedSubmission: '1152921504621260002',
  rolloutAppPreviousSubmission: '1152921504621260001',
  /** A paid app on the newer (per-market) pricing model: its clone has priceId "Base", which a PUT refuses. */
  paidApp: '9NBLGGH4PAID',
  /** A paid app on a classic price tier (Tier5): its price round-trips. */
  tierApp: '9NBLGGH4TIER',
  /** Reserved in Partner Center but never published: the API cannot make its first submission. */
  newApp: '9NBLGGH4NEWA',
  /** Without advanced listing permission: gamingOptions and trailers are null. */
  basicApp: '9NBLGGH4BASC',
} as const;

function image(id: string, fileName: string, imageType: string, description = ''): Json {
  return { fileName, fileStatus: 'Uploaded', id, description, imageType };
}

function pkg(id: string | undefined, fileName: string, version: string, architecture: string): Json {
  return {
    fileName,
    fileStatus: 'Uploaded',
    ...(id ? { id } : {}),
    version,
    architecture,
    languages: ['en-us', 'de-de'],
    capabilities: ['runFullTrust', 'internetClient'],
    minimumDirectXVersion: 'None',
    minimumSystemRam: 'None',
    targetDeviceFamilies: ['Windows.Desktop min version 10.0.17763.0'],
  };
}

function appListing(title: string, description: string, images: Json[]): Json {
  return {
    baseListing: {
      copyrightAndTrademarkInfo: '© Contoso Ltd.',
      keywords: ['demo', 'contoso'],
      licenseTerms: '',
      privacyPolicy: '',
      supportContact: '',
      websiteUrl: '',
      description,
      features: [],
      releaseNotes: '',
      images,
      recommendedHardware: [],
      minimumHardware: [],
      title,
      shortDescription: '',
      shortTitle: '',
      sortTitle: '',
      voiceTitle: '',
      devStudio: 'Contoso',
    },
    platformOverrides: {},
  };
}

function demoAppPublished(): SeedSubmission {
  return {
    id: SEED_IDS.demoAppPublishedSubmission,
    applicationCategory: 'Productivity',
    visibility: 'Public',
    targetPublishMode: 'Immediate',
    listings: {
      'en-us': appListing('Contoso Demo', 'A demo app of the Store submission emulator.', [
        image('1152921504672272757', 'Images/en-us/screenshot1.png', 'Screenshot', 'Main window'),
        image('1152921504672272758', 'Images/en-us/storelogo.png', 'StoreLogoSquare'),
      ]),
      'de-de': appListing('Contoso Demo', 'Eine Demo-App des Store-Emulators.', [
        image('1152921504672272759', 'Images/de-de/screenshot1.png', 'Screenshot', 'Hauptfenster'),
      ]),
    },
    applicationPackages: [
      pkg('1152921504620138797', 'Packages/ContosoDemo_1.0.0.0_x64.msix', '1.0.0.0', 'X64'),
      pkg('1152921504620138798', 'Packages/ContosoDemo_1.0.0.0_arm64.msix', '1.0.0.0', 'Arm64'),
    ],
    friendlyName: 'Submission 1',
  };
}

/** An app of its own identity, published once with packages 1.0.0.0 (x64 and arm64). */
function plainApp(id: string, name: string, extra: Partial<SeedApplication> = {}): SeedApplication {
  const identity = `Contoso.${name.replace(/\W+/g, '')}`;
  const published = demoAppPublished();
  published.id = undefined;
  published.listings = { 'en-us': (published.listings as Json)['en-us'] };
  published.applicationPackages = [
    pkg(undefined, `Packages/${identity}_1.0.0.0_x64.msix`, '1.0.0.0', 'X64'),
    pkg(undefined, `Packages/${identity}_1.0.0.0_arm64.msix`, '1.0.0.0', 'Arm64'),
  ];
  return {
    id,
    primaryName: name,
    packageFamilyName: `${identity}_8wekyb3d8bbwe`,
    packageIdentityName: identity,
    publisherName: 'CN=Contoso Ltd.',
    firstPublishedDate: '2024-05-01T10:00:00Z',
    published,
    ...extra,
  };
}

/** A demo app with a flight and an add-on, plus one product for each failure scenario. */
export function defaultSeed(): SeedData {
  const paid = plainApp(SEED_IDS.paidApp, 'Contoso Paid');
  // The newer pricing model: the API shows the base price as "Base" (msstore-cli#66, #112;
  // StoreBroker#68) and only the markets it can express.
  paid.published!.pricing = {
    trialPeriod: 'SevenDays',
    marketSpecificPricings: { NL: 'Tier1036', DE: 'Tier1036' },
    sales: [],
    priceId: 'Base',
    isAdvancedPricingModel: true,
  };
  const tier = plainApp(SEED_IDS.tierApp, 'Contoso Tiered');
  tier.published!.pricing = {
    trialPeriod: 'NoFreeTrial',
    marketSpecificPricings: { US: 'Tier7' },
    sales: [],
    priceId: 'Tier5',
    isAdvancedPricingModel: false,
  };
  const rolloutPublished = demoAppPublished();
  rolloutPublished.id = SEED_IDS.rolloutAppPublishedSubmission;
  rolloutPublished.packageDeliveryOptions = {
    packageRollout: {
      isPackageRollout: true,
      packageRolloutPercentage: 25,
      packageRolloutStatus: 'PackageRolloutInProgress',
      fallbackSubmissionId: SEED_IDS.rolloutAppPreviousSubmission,
    },
    isMandatoryUpdate: false,
    mandatoryUpdateEffectiveDate: '1601-01-01T00:00:00.0000000Z',
  };
  return {
    applications: [
      {
        id: SEED_IDS.demoApp,
        primaryName: 'Contoso Demo',
        packageFamilyName: 'Contoso.Demo_8wekyb3d8bbwe',
        packageIdentityName: 'Contoso.Demo',
        publisherName: 'CN=Contoso Ltd.',
        firstPublishedDate: '2024-03-01T10:00:00Z',
        hasAdvancedListingPermission: true,
        published: demoAppPublished(),
        flights: [
          {
            flightId: SEED_IDS.demoFlight,
            friendlyName: 'Beta testers',
            groupIds: ['1152921504606962205'],
            rankHigherThan: 'Non-flighted submission',
            published: {
              id: SEED_IDS.demoFlightPublishedSubmission,
              flightPackages: [pkg('1152921504620138799', 'Packages/ContosoDemo_1.1.0.0_x64.msix', '1.1.0.0', 'X64')],
              targetPublishMode: 'Immediate',
            },
          },
        ],
      },
      {
        id: SEED_IDS.portalApp,
        primaryName: 'Contoso Portal Draft',
        published: { ...demoAppPublished(), id: '1152921504621250000' },
        pending: {
          ...demoAppPublished(),
          id: SEED_IDS.portalAppPendingSubmission,
          createdIn: 'PartnerCenter',
          friendlyName: 'Submission 2',
        },
      },
      {
        id: SEED_IDS.unsupportedApp,
        primaryName: 'Contoso Legacy',
        unsupportedFeatures: true,
        published: { ...demoAppPublished(), id: '1152921504621270000' },
      },
      {
        id: SEED_IDS.rolloutApp,
        primaryName: 'Contoso Gradual',
        packageIdentityName: 'Contoso.Gradual',
        published: rolloutPublished,
      },
      paid,
      tier,
      { id: SEED_IDS.newApp, primaryName: 'Contoso Fresh', packageIdentityName: 'Contoso.Fresh' },
      plainApp(SEED_IDS.basicApp, 'Contoso Basic', { hasAdvancedListingPermission: false }),
    ],
    inAppProducts: [
      {
        id: SEED_IDS.demoAddOn,
        productId: SEED_IDS.demoAddOnProductId,
        productType: 'Durable',
        applicationIds: [SEED_IDS.demoApp],
        published: {
          id: SEED_IDS.demoAddOnPublishedSubmission,
          contentType: 'BookDownload',
          keywords: ['demo'],
          lifetime: 'Forever',
          listings: {
            'en-us': {
              description: 'Unlocks the demo features.',
              icon: { fileName: 'Images/addon-icon.png', fileStatus: 'Uploaded' },
              title: 'Demo add-on',
            },
          },
          tag: '',
          visibility: 'Public',
          friendlyName: 'Submission 1',
        },
      },
    ],
  };
}

export function resolveSeed(option: SeedOption | undefined): SeedData {
  if (option === undefined || option === 'default') return defaultSeed();
  if (option === 'none') return {};
  return option;
}

/** A seed given on the command line or to reset: a JSON file path, or the data itself. */
export function readSeedFile(path: string): SeedData {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!isRecord(parsed)) throw new TypeError(`${path}: seed data must be a JSON object`);
  return parsed;
}

/**
 * Fills `store` from `seed`. `mintUpload` gives API-created pending submissions their upload URL.
 * Throws a TypeError naming the offending entry when the seed is malformed.
 */
export function applySeed(store: Store, seed: SeedData, mintUpload: () => UploadTarget): void {
  if (typeof seed !== 'object' || seed === null || Array.isArray(seed))
    throw new TypeError('seed data must be an object');
  const applications: SeedApplication[] = Array.isArray(seed.applications) ? seed.applications : [];
  const inAppProducts: SeedInAppProduct[] = Array.isArray(seed.inAppProducts) ? seed.inAppProducts : [];
  for (const [i, a] of applications.entries()) {
    if (!a || typeof a.id !== 'string' || typeof a.primaryName !== 'string')
      throw new TypeError(`applications[${i}] needs id and primaryName`);
    const id = a.id.toUpperCase();
    if (store.applications.has(id)) throw new TypeError(`applications[${i}]: duplicate id ${id}`);
    const name = a.primaryName.replace(/\W+/g, '');
    const app: Application = {
      kind: 'application',
      id,
      primaryName: a.primaryName,
      packageIdentityName: a.packageIdentityName ?? `Contoso.${name}`,
      packageFamilyName: a.packageFamilyName ?? `Contoso.${name}_8wekyb3d8bbwe`,
      publisherName: a.publisherName ?? 'CN=Contoso Ltd.',
      firstPublishedDate: a.firstPublishedDate ?? (a.published ? '2024-01-15T09:00:00Z' : undefined),
      hasAdvancedListingPermission: a.hasAdvancedListingPermission ?? true,
      unsupportedFeatures: a.unsupportedFeatures ?? false,
      ageRatingsCompleted: a.ageRatingsCompleted ?? true,
      activeValidationErrors: a.activeValidationErrors ?? false,
      submissionCount: 0,
    };
    store.applications.set(id, app);
    addSubmissions(store, app, a, mintUpload, `applications[${i}]`);
    for (const [j, f] of (a.flights ?? []).entries()) {
      if (!f || typeof f.friendlyName !== 'string')
        throw new TypeError(`applications[${i}].flights[${j}] needs friendlyName`);
      const flight: Flight = {
        kind: 'flight',
        flightId: (f.flightId ?? randomUUID()).toLowerCase(),
        applicationId: id,
        friendlyName: f.friendlyName,
        groupIds: (f.groupIds ?? []).map(String),
        rankHigherThan: f.rankHigherThan ?? null,
        submissionCount: 0,
      };
      store.flights.set(flight.flightId, flight);
      addSubmissions(store, flight, f, mintUpload, `applications[${i}].flights[${j}]`);
    }
  }
  for (const [i, p] of inAppProducts.entries()) {
    if (!p || typeof p.id !== 'string' || typeof p.productId !== 'string' || !Array.isArray(p.applicationIds)) {
      throw new TypeError(`inAppProducts[${i}] needs id, productId and applicationIds`);
    }
    const addOn: AddOn = {
      kind: 'inappproduct',
      id: p.id.toUpperCase(),
      productId: p.productId,
      productType: p.productType === 'Consumable' ? 'Consumable' : 'Durable',
      applicationIds: p.applicationIds.map((x) => String(x).toUpperCase()),
      unsupportedFeatures: p.unsupportedFeatures ?? false,
      submissionCount: 0,
    };
    for (const appId of addOn.applicationIds) {
      if (!store.application(appId)) throw new TypeError(`inAppProducts[${i}]: unknown application ${appId}`);
    }
    store.addOns.set(addOn.id, addOn);
    addSubmissions(store, addOn, p, mintUpload, `inAppProducts[${i}]`);
  }
}

function addSubmissions(
  store: Store,
  product: Product,
  seed: { published?: SeedSubmission; pending?: SeedSubmission },
  mintUpload: () => UploadTarget,
  where: string,
): void {
  if (seed.published) {
    const sub = store.addSubmission(product, {
      ...submissionInit(seed.published, product, `${where}.published`, store),
      createdIn: 'API',
      status: 'Published',
      upload: null,
    });
    product.lastPublishedSubmissionId = sub.id;
  }
  if (seed.pending) {
    const init = submissionInit(seed.pending, product, `${where}.pending`, store);
    const createdIn: CreatedIn = seed.pending.createdIn === 'PartnerCenter' ? 'PartnerCenter' : 'API';
    const status = (seed.pending.status ?? 'PendingCommit') as SubmissionStatus;
    if (!STATUSES.includes(status)) throw new TypeError(`${where}.pending: unknown status ${status}`);
    const sub = store.addSubmission(product, {
      ...init,
      createdIn,
      status,
      upload: createdIn === 'API' ? mintUpload() : null,
    });
    product.pendingSubmissionId = sub.id;
  }
}

function submissionInit(
  seed: SeedSubmission,
  product: Product,
  where: string,
  store: Store,
): { id: string; data: Json; statusDetails: StatusDetails } {
  if (!isRecord(seed)) throw new TypeError(`${where} must be an object`);
  const { id, statusDetails } = seed;
  // Everything else is submission data; these keys are the server's or the seed's own.
  const fields: Json = { ...seed };
  for (const key of ['id', 'status', 'statusDetails', 'createdIn', 'fileUploadUrl', 'flightId']) delete fields[key];
  if (id !== undefined && (typeof id !== 'string' || !/^\d{19}$/.test(id)))
    throw new TypeError(`${where}.id must be a 19-digit string`);
  if (id !== undefined && store.submissions.has(id)) throw new TypeError(`${where}: duplicate submission id ${id}`);
  const data: Json = {
    ...blankSubmissionData(product.kind, `Submission ${product.submissionCount + 1}`),
    ...clone(fields),
  };
  for (const ref of fileEntries({ kind: product.kind, data })) {
    if (typeof ref.entry.fileStatus !== 'string') ref.entry.fileStatus = 'Uploaded';
    // Published files have ids the Store gave them.
    if (ref.entry.fileStatus === 'Uploaded' && typeof ref.entry.id !== 'string' && !ref.where.endsWith('.icon')) {
      ref.entry.id = store.ids.nextId();
    }
  }
  return {
    id: id ?? store.ids.nextId(),
    data,
    statusDetails: { ...emptyStatusDetails(), ...(isRecord(statusDetails) ? clone(statusDetails) : {}) },
  };
}
