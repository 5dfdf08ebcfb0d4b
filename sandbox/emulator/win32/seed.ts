/**
 * Seed data of the emulated MSI/EXE API: products as Partner Center holds them after their first
 * submission (the API cannot create a product, nor submit one that was never submitted in
 * Partner Center: windows-dev-docs hub/apps/publish/store-submission-api.md, "Complete
 * prerequisites").
 */
import { isRecord } from './validate';
import {
  type ErrorDetail,
  type Json,
  type LanguageAssets,
  type ListingAsset,
  type Win32Listing,
  type Win32Package,
  type Win32Product,
  type Win32Store,
  defaultAvailability,
  defaultProperties,
  emptyListing,
} from './state';

export interface Win32SeedProduct {
  /** A GUID (Partner Center ids of MSI/EXE products are GUIDs: msstore-cli MSStore.CLI/Helpers/ProductTypeHelper.cs). */
  productId: string;
  name: string;
  packages?: Array<Partial<Win32Package> & { packageUrl: string }>;
  /** Listings of the draft, with their language. */
  listings?: Array<Partial<Win32Listing> & { language: string }>;
  /** Per language; an asset without `assetUrl` gets one. */
  assets?: Record<string, { storeLogos?: Array<Partial<ListingAsset>>; screenshots?: Array<Partial<ListingAsset>> }>;
  properties?: Json;
  availability?: Json;
  /** A submission in progress when the emulator starts: made in Partner Center, held until completed (admin API). */
  ongoing?: { submissionId?: string; status?: 'INPROGRESS' | 'UNKNOWN' };
}

export interface Win32Seed {
  products?: Win32SeedProduct[];
}

export type Win32SeedOption = 'default' | 'none' | Win32Seed;

/** Partner Center's seller id of the emulated account: the `X-Seller-Account-Id` every call must send. */
export const WIN32_SELLER_ID = '84920371';

export const WIN32_SEED_IDS = {
  /** An MSI app; the id is the docs' own example (ClientConfiguration.ApplicationId). */
  msiApp: '3e31a9f9-84e8-4d2d-9eba-487878d02ebf',
  /** An EXE app with installer parameters and custom return codes. */
  exeApp: '7c0e5f3a-2b1d-4c8e-9f6a-1d2e3f4a5b6c',
  /** Has a submission in progress made in Partner Center; it stays INPROGRESS until the admin API completes it. */
  busyApp: 'a5d0c9e8-6f7b-4a3c-8d2e-0f1e2d3c4b5a',
  busyAppOngoingSubmission: '1152921504700004242',
} as const;

function asset(id: string, width: number, height: number): Partial<ListingAsset> {
  return { id, imageSize: { width, height } };
}

function listing(
  language: string,
  description: string,
  whatsNew: string,
): Partial<Win32Listing> & { language: string } {
  return {
    language,
    description,
    whatsNew,
    productFeatures: ['Fast', 'Offline'],
    shortDescription: description.slice(0, 40),
    searchTerms: ['contoso'],
    additionalLicenseTerms: 'See https://contoso.example/license',
    copyright: '© Contoso Ltd.',
    developedBy: 'Contoso',
    sortTitle: '',
    requirements: [],
    contactInfo: 'support@contoso.example',
  };
}

const PROPERTIES: Json = {
  isPrivacyPolicyRequired: true,
  privacyPolicyUrl: 'https://contoso.example/privacy',
  website: 'https://contoso.example',
  supportContactInfo: 'support@contoso.example',
  certificationNotes: '',
  category: 'DeveloperTools',
  subcategory: 'Utilities',
  productDeclarations: { dependsOnDriversOrNT: false, accessibilitySupport: false, penAndInkSupport: false },
  isSystemFeatureRequired: [{ isRequired: true, isRecommended: false, hardwareItemType: 'Keyboard' }],
  systemRequirementDetails: [{ minimumRequirement: '1GB', recommendedRequirement: '4GB', hardwareItemType: 'Memory' }],
};

const AVAILABILITY: Json = {
  markets: ['US', 'DE', 'GB'],
  discoverability: 'DISCOVERABLE',
  enableInFutureMarkets: true,
  pricing: 'FREE',
  freeTrial: 'NO_FREE_TRIAL',
};

const EXE_ERRORS: ErrorDetail[] = [
  {
    errorScenario: 'rebootRequired',
    errorScenarioDetails: [{ errorValue: '3010', errorUrl: 'https://contoso.example/setup/3010' }],
  },
];

export function defaultWin32Seed(): Win32Seed {
  const assets = {
    'en-us': {
      storeLogos: [asset('1152921504700100001', 1080, 1080)],
      screenshots: [asset('1152921504700100002', 1920, 1080), asset('1152921504700100003', 1920, 1080)],
    },
    'de-de': {
      storeLogos: [asset('1152921504700100004', 1080, 1080)],
      screenshots: [asset('1152921504700100005', 1920, 1080)],
    },
  };
  return {
    products: [
      {
        productId: WIN32_SEED_IDS.msiApp,
        name: 'Contoso Tools',
        packages: [
          {
            packageId: '1152921504700200001',
            packageUrl: 'https://downloads.contoso.example/tools/1.2.0/ContosoTools-1.2.0-x64.msi',
            languages: ['en-us', 'de-de'],
            architectures: ['X64'],
            isSilentInstall: true,
            packageType: 'msi',
          },
        ],
        listings: [
          listing('en-us', 'Contoso Tools: the toolbox of the Store emulator.', 'Version 1.2.'),
          listing('de-de', 'Contoso Tools: der Werkzeugkasten des Store-Emulators.', 'Version 1.2.'),
        ],
        assets,
        properties: PROPERTIES,
        availability: AVAILABILITY,
      },
      {
        productId: WIN32_SEED_IDS.exeApp,
        name: 'Contoso Player',
        packages: [
          {
            packageId: '1152921504700200002',
            packageUrl: 'https://downloads.contoso.example/player/4.0/ContosoPlayerSetup-4.0.exe',
            languages: ['en-us'],
            architectures: ['X64'],
            isSilentInstall: false,
            installerParameters: '/S',
            genericDocUrl: 'https://contoso.example/setup/codes',
            errorDetails: EXE_ERRORS,
            packageType: 'exe',
          },
        ],
        listings: [listing('en-us', 'Contoso Player plays everything.', 'Version 4.0.')],
        assets: { 'en-us': assets['en-us'] },
        properties: { ...PROPERTIES, category: 'Music', subcategory: '' },
        availability: AVAILABILITY,
      },
      {
        productId: WIN32_SEED_IDS.busyApp,
        name: 'Contoso Busy',
        packages: [
          {
            packageId: '1152921504700200003',
            packageUrl: 'https://downloads.contoso.example/busy/2.0/ContosoBusy-2.0-x86.msi',
            languages: ['en-us'],
            architectures: ['X86'],
            isSilentInstall: true,
            packageType: 'msi',
          },
        ],
        listings: [listing('en-us', 'Contoso Busy is always in certification.', 'Version 2.0.')],
        assets: { 'en-us': assets['en-us'] },
        properties: PROPERTIES,
        availability: AVAILABILITY,
        ongoing: { submissionId: WIN32_SEED_IDS.busyAppOngoingSubmission, status: 'INPROGRESS' },
      },
    ],
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function resolveWin32Seed(seed: Win32SeedOption | undefined): Win32Seed {
  if (seed === undefined || seed === 'default') return defaultWin32Seed();
  if (seed === 'none') return {};
  if (!isRecord(seed)) throw new TypeError("the win32 seed must be seed data, 'default' or 'none'");
  return seed;
}

/**
 * Loads `seed` into `store`; `assetUrl` makes the URL of an asset, `retain` records a seeded package URL as
 * one the Store already holds a copy of. Throws TypeError on malformed seed data.
 */
export function applyWin32Seed(
  store: Win32Store,
  seed: Win32Seed,
  assetUrl: (id: string) => string,
  retain: (packageUrl: string) => void,
): Array<{ productId: string; submissionId: string; status: 'INPROGRESS' | 'UNKNOWN' }> {
  const ongoing: Array<{ productId: string; submissionId: string; status: 'INPROGRESS' | 'UNKNOWN' }> = [];
  for (const p of seed.products ?? []) {
    if (!isRecord(p) || typeof p.productId !== 'string' || !GUID.test(p.productId))
      throw new TypeError('a win32 seed product needs a GUID productId');
    if (typeof p.name !== 'string') throw new TypeError(`win32 seed product ${p.productId} needs a name`);
    const packages: Win32Package[] = (p.packages ?? []).map((x) => {
      if (typeof x.packageUrl !== 'string') throw new TypeError(`a package of ${p.productId} has no packageUrl`);
      retain(x.packageUrl);
      return {
        packageId: x.packageId ?? store.ids.nextId(),
        packageUrl: x.packageUrl,
        languages: x.languages ?? ['en-us'],
        architectures: x.architectures ?? ['X64'],
        isSilentInstall: x.isSilentInstall ?? true,
        installerParameters: x.installerParameters ?? '',
        genericDocUrl: x.genericDocUrl ?? '',
        errorDetails: x.errorDetails ?? [],
        packageType: x.packageType ?? 'msi',
      };
    });
    const listings = new Map<string, Win32Listing>();
    for (const l of p.listings ?? []) {
      const language = l.language.toLowerCase();
      listings.set(language, { ...emptyListing(language), ...structuredClone(l), language });
    }
    const assets = new Map<string, LanguageAssets>();
    for (const [lang, a] of Object.entries(p.assets ?? {})) {
      const full = (list: Array<Partial<ListingAsset>> | undefined): ListingAsset[] =>
        (list ?? []).map((x) => {
          const id = x.id ?? store.ids.nextId();
          return { id, assetUrl: x.assetUrl ?? assetUrl(id), imageSize: x.imageSize ?? { width: 1920, height: 1080 } };
        });
      assets.set(lang.toLowerCase(), { storeLogos: full(a.storeLogos), screenshots: full(a.screenshots) });
    }
    const product: Win32Product = {
      productId: p.productId.toLowerCase(),
      name: p.name,
      draft: {
        packages,
        properties: { ...defaultProperties(), ...structuredClone(p.properties ?? {}) },
        availability: { ...defaultAvailability(), ...structuredClone(p.availability ?? {}) },
        listings,
        assets,
      },
      modules: { packageErrors: [], busyUntil: 0 },
    };
    store.products.set(product.productId, product);
    if (p.ongoing) {
      ongoing.push({
        productId: product.productId,
        submissionId: p.ongoing.submissionId ?? store.ids.nextId(),
        status: p.ongoing.status ?? 'INPROGRESS',
      });
    }
  }
  return ongoing;
}
