/**
 * What a PUT of a submission is checked against, and how its body lands on the submission.
 * Every rule names its source; the table in README.md lists them all.
 *
 * Sources: the resource pages of the submission API (MicrosoftDocs/windows-dev-docs
 * `uwp/monetize/manage-app-submissions.md`, `manage-add-on-submissions.md`,
 * `manage-flight-submissions.md`), and what tools calling it have seen (issue numbers below).
 */
import { apiError, clone, isRecord } from './http';
import type { Json, ProductKind } from './state';

/** A rule checks one value and throws 400 InvalidParameterValue naming the field when it does not fit. */
type Rule = (value: unknown, field: string) => void;

export const MAX_PACKAGES = 25;
const MAX_ADDON_KEYWORDS = 10;

function bad(field: string, message: string): never {
  throw apiError(
    400,
    'InvalidParameterValue',
    `Invalid value for '${field}': ${message}.`,
    field.split(/[.[]/)[0] ?? 'submission',
  );
}

const str: Rule = (v, f) => {
  if (v !== null && typeof v !== 'string') bad(f, `expected a string, got ${typeName(v)}`);
};
const bool: Rule = (v, f) => {
  if (typeof v !== 'boolean') bad(f, `expected true or false, got ${typeName(v)}`);
};
const int: Rule = (v, f) => {
  if (!Number.isInteger(v)) bad(f, `expected an integer, got ${typeName(v)}`);
};
const date: Rule = (v, f) => {
  if (v !== null && (typeof v !== 'string' || Number.isNaN(Date.parse(v)))) bad(f, 'expected an ISO 8601 date');
};
/** Flight submissions come back with `targetPublishDate: ""` and take it back (manage-flight-submissions.md, update-a-flight-submission.md). */
const flightDate: Rule = (v, f) => {
  if (v !== '') date(v, f);
};
const percentage: Rule = (v, f) => {
  if (typeof v !== 'number' || !(v >= 0 && v <= 100)) bad(f, 'expected a number from 0 to 100');
};
const any: Rule = () => undefined;

function oneOf(...values: string[]): Rule {
  return (v, f) => {
    if (typeof v !== 'string' || !values.includes(v))
      bad(f, `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  };
}
/** Rules whose field must be present. */
const REQUIRED = new WeakSet<Rule>();
function required(rule: Rule): Rule {
  const checked: Rule = (v, f) => {
    if (v === undefined || v === null) bad(f, 'the field is required');
    rule(v, f);
  };
  REQUIRED.add(checked);
  return checked;
}
const requiredStr = required((v, f) => {
  if (typeof v !== 'string' || v.trim() === '') bad(f, 'expected a non-empty string');
});
function arrayOf(rule: Rule, max?: number): Rule {
  return (v, f) => {
    if (!Array.isArray(v)) bad(f, `expected an array, got ${typeName(v)}`);
    if (max !== undefined && v.length > max) bad(f, `at most ${max} items are allowed, got ${v.length}`);
    v.forEach((item, i) => rule(item, `${f}[${i}]`));
  };
}
function nullable(rule: Rule): Rule {
  return (v, f) => {
    if (v !== null) rule(v, f);
  };
}
/** An object whose known fields are checked; unknown fields are ignored, as the service does. */
function object(fields: Record<string, Rule>, nullableObject = false): Rule {
  return (v, f) => {
    if (v === null && nullableObject) return;
    if (!isRecord(v)) bad(f, `expected an object, got ${typeName(v)}`);
    for (const [key, rule] of Object.entries(fields)) {
      if (v[key] !== undefined || REQUIRED.has(rule)) rule(v[key], f ? `${f}.${key}` : key);
    }
  };
}
function mapOf(rule: Rule, keys?: string[]): Rule {
  return (v, f) => {
    if (!isRecord(v)) bad(f, `expected an object, got ${typeName(v)}`);
    for (const [key, value] of Object.entries(v)) {
      if (keys && !keys.includes(key)) bad(`${f}.${key}`, `the key must be one of ${keys.join(', ')}`);
      rule(value, `${f}.${key}`);
    }
  };
}
function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

// ---- enums and tiers (manage-app-submissions.md, manage-add-on-submissions.md) ----

const fileStatus = oneOf('None', 'PendingUpload', 'Uploaded', 'PendingDelete');
const requiredFileStatus = required(fileStatus);

/**
 * Price tiers: Free, NotAvailable, Base, and TierN where N is 2-96 (the original tiers) or
 * 1012-1424 (the expanded ones), "Price tiers" enum of both resource pages. Which range an
 * account gets is what `isAdvancedPricingModel` says, but that flag is read-only and flips to
 * false on any PUT (msstore-cli PR #175, StoreBroker#129), so both ranges are accepted.
 */
export function isPriceTier(v: unknown): boolean {
  if (v === 'Free' || v === 'NotAvailable' || v === 'Base') return true;
  const n = typeof v === 'string' ? /^Tier(\d+)$/.exec(v)?.[1] : undefined;
  if (n === undefined) return false;
  const tier = Number(n);
  return (tier >= 2 && tier <= 96) || (tier >= 1012 && tier <= 1424);
}
const priceTier: Rule = (v, f) => {
  if (!isPriceTier(v))
    bad(
      f,
      `expected a price tier (Free, NotAvailable, Base, Tier2-Tier96, Tier1012-Tier1424), got ${JSON.stringify(v)}`,
    );
};
const trialPeriod = oneOf('NoFreeTrial', 'OneDay', 'TrialNeverExpires', 'SevenDays', 'FifteenDays', 'ThirtyDays');
const hardwarePreference = oneOf('Touch', 'Keyboard', 'Mouse', 'Camera', 'NfcHce', 'Nfc', 'BluetoothLE', 'Telephony');
const enterpriseLicensing = oneOf('None', 'Online', 'OnlineAndOffline');
const minimumDirectX = oneOf('None', 'DirectX93', 'DirectX100');
const minimumRam = oneOf('None', 'Memory2GB');
const IMAGE_TYPES = [
  'Screenshot',
  'MobileScreenshot',
  'XboxScreenshot',
  'SurfaceHubScreenshot',
  'HoloLensScreenshot',
  'StoreLogo9x16',
  'StoreLogoSquare',
  'Icon',
  'PromotionalArt16x9',
  'PromotionalArtwork2400X1200',
  'XboxBrandedKeyArt',
  'XboxTitledHeroArt',
  'XboxFeaturedPromotionalArt',
  'SquareIcon358X358',
  'BackgroundImage1000X800',
  'PromotionalArtwork414X180',
  // Still recognised for old listings (commented in the page's source).
  'PromotionalArtwork846X468',
  'PromotionalArtwork558X756',
  'PromotionalArtwork414X468',
  'PromotionalArtwork558X558',
  'WideIcon358X173',
  'Unknown',
];
const imageType = oneOf(...IMAGE_TYPES);
const PLATFORM_OVERRIDES = ['Unknown', 'Windows80', 'Windows81', 'WindowsPhone71', 'WindowsPhone80', 'WindowsPhone81'];
const DEVICE_FAMILIES = ['Desktop', 'Mobile', 'Holographic', 'Xbox', 'Team'];
const GAME_GENRES = [
  'Games_ActionAndAdventure',
  'Games_CardAndBoard',
  'Games_Casino',
  'Games_Educational',
  'Games_FamilyAndKids',
  'Games_Fighting',
  'Games_Music',
  'Games_Platformer',
  'Games_PuzzleAndTrivia',
  'Games_RacingAndFlying',
  'Games_RolePlaying',
  'Games_Shooter',
  'Games_Simulation',
  'Games_Sports',
  'Games_Strategy',
  'Games_Word',
];
/**
 * applicationCategory: a category, or category_subcategory joined with "_" (e.g.
 * BooksAndReference_EReader), from Partner Center's category list (categories-and-subcategories).
 */
const APP_CATEGORIES = [
  'NotSet',
  'BooksAndReference',
  'Business',
  'DeveloperTools',
  'Education',
  'Entertainment',
  'FoodAndDining',
  'GovernmentAndPolitics',
  'HealthAndFitness',
  'KidsAndFamily',
  'Lifestyle',
  'Medical',
  'MultimediaDesign',
  'Music',
  'NavigationAndMaps',
  'NewsAndWeather',
  'PersonalFinance',
  'Personalization',
  'PhotoAndVideo',
  'Productivity',
  'Security',
  'Shopping',
  'Social',
  'Sports',
  'Travel',
  'UtilitiesAndTools',
  'Games',
];
const applicationCategory: Rule = (v, f) => {
  const base = typeof v === 'string' ? v.split('_')[0] : undefined;
  if (base === undefined || !APP_CATEGORIES.includes(base) || !/^[A-Za-z]+(_[A-Za-z]+)?$/.test(v as string)) {
    bad(f, `expected a category such as Productivity or BooksAndReference_EReader, got ${JSON.stringify(v)}`);
  }
};
const addOnContentType = oneOf(
  'NotSet',
  'BookDownload',
  'EMagazine',
  'ENewspaper',
  'MusicDownload',
  'MusicStream',
  'OnlineDataStorage',
  'VideoDownload',
  'VideoStream',
  'Asp',
  'OnlineDownload',
);
const addOnLifetime = oneOf(
  'Forever',
  'OneDay',
  'ThreeDays',
  'FiveDays',
  'OneWeek',
  'TwoWeeks',
  'OneMonth',
  'TwoMonths',
  'ThreeMonths',
  'SixMonths',
  'OneYear',
);
const kinectData = oneOf('NotSet', 'Unknown', 'Enabled', 'Disabled');

const pkg = object({
  fileName: requiredStr,
  fileStatus: requiredFileStatus,
  id: str,
  version: str,
  architecture: str,
  languages: arrayOf(str),
  capabilities: arrayOf(str),
  minimumDirectXVersion: minimumDirectX,
  minimumSystemRam: minimumRam,
  targetDeviceFamilies: arrayOf(str),
});
const image = object({
  fileName: requiredStr,
  fileStatus: requiredFileStatus,
  id: str,
  description: str,
  imageType: required(imageType),
});
const listingText = {
  copyrightAndTrademarkInfo: str,
  keywords: arrayOf(str),
  licenseTerms: str,
  privacyPolicy: str,
  supportContact: str,
  websiteUrl: str,
  description: str,
  // The list limits (features 20, hardware 11) are checked at commit, as the Store does.
  features: arrayOf(str),
  releaseNotes: str,
  images: arrayOf(image),
  recommendedHardware: arrayOf(str),
  minimumHardware: arrayOf(str),
  title: str,
  shortDescription: str,
  shortTitle: str,
  sortTitle: str,
  voiceTitle: str,
  devStudio: str,
};
const appListing = object({
  baseListing: object(listingText),
  platformOverrides: mapOf(object(listingText), PLATFORM_OVERRIDES),
});
const packageDeliveryOptions = object({
  packageRollout: object({
    isPackageRollout: bool,
    packageRolloutPercentage: percentage,
    packageRolloutStatus: str,
    fallbackSubmissionId: str,
  }),
  isMandatoryUpdate: bool,
  mandatoryUpdateEffectiveDate: date,
});
const appPricing = object({
  trialPeriod,
  marketSpecificPricings: mapOf(priceTier),
  // Deprecated: ignored on PUT (Sale resource note), any content accepted.
  sales: arrayOf(any),
  priceId: nullable(priceTier),
  isAdvancedPricingModel: bool,
});
const addOnPricing = object({
  marketSpecificPricings: mapOf(priceTier),
  sales: arrayOf(any),
  priceId: nullable(priceTier),
  isAdvancedPricingModel: bool,
});
const publishMode = oneOf('Immediate', 'Manual', 'SpecificDate');
const visibility = oneOf('Public', 'Private', 'Hidden', 'NotSet');
const gamingOptions = object({
  genres: arrayOf(oneOf(...GAME_GENRES)),
  isLocalMultiplayer: bool,
  isLocalCooperative: bool,
  isOnlineMultiplayer: bool,
  isOnlineCooperative: bool,
  localMultiplayerMinPlayers: int,
  localMultiplayerMaxPlayers: int,
  localCooperativeMinPlayers: int,
  localCooperativeMaxPlayers: int,
  isBroadcastingPrivilegeGranted: bool,
  isCrossPlayEnabled: bool,
  kinectDataForExternal: kinectData,
});
const trailer = object({
  id: str,
  videoFileName: requiredStr,
  videoFileId: str,
  trailerAssets: mapOf(
    object({
      title: str,
      // "An array that contains one image resource": the only list of exactly one the API has.
      imageList: arrayOf(object({ fileName: requiredStr, id: str, description: str }), 1),
    }),
  ),
});

const SCHEMAS: Record<ProductKind, Record<string, Rule>> = {
  application: {
    applicationCategory,
    pricing: appPricing,
    visibility,
    targetPublishMode: publishMode,
    targetPublishDate: date,
    listings: mapOf(appListing),
    hardwarePreferences: arrayOf(hardwarePreference),
    automaticBackupEnabled: bool,
    canInstallOnRemovableMedia: bool,
    isGameDvrEnabled: bool,
    // How many objects (exactly one) is checked at commit: MultipleInstancesOfGamingOptions (StoreBroker#135).
    gamingOptions: nullable(arrayOf(gamingOptions)),
    hasExternalInAppProducts: bool,
    meetAccessibilityGuidelines: bool,
    notesForCertification: str,
    applicationPackages: arrayOf(pkg),
    packageDeliveryOptions,
    enterpriseLicensing,
    allowMicrosoftDecideAppAvailabilityToFutureDeviceFamilies: bool,
    allowTargetFutureDeviceFamilies: mapOf(bool, DEVICE_FAMILIES),
    friendlyName: str,
    // Up to 15, checked at commit with the trailers' files.
    trailers: nullable(arrayOf(trailer)),
    isSeekEnabled: bool,
  },
  flight: {
    flightPackages: arrayOf(pkg),
    packageDeliveryOptions,
    targetPublishMode: publishMode,
    targetPublishDate: flightDate,
    notesForCertification: str,
  },
  inappproduct: {
    contentType: addOnContentType,
    keywords: arrayOf(str, MAX_ADDON_KEYWORDS),
    lifetime: addOnLifetime,
    listings: mapOf(
      object({
        description: str,
        icon: object({ fileName: requiredStr, fileStatus: requiredFileStatus }, true),
        title: str,
      }),
    ),
    pricing: addOnPricing,
    targetPublishDate: date,
    targetPublishMode: publishMode,
    tag: str,
    visibility,
    friendlyName: str,
  },
};

/** A flight PUT that carries `visibility` gets 400 (StoreBroker PR #173); other unknown fields are ignored. */
const NOT_FLIGHT_FIELDS = ['visibility'];

export interface UpdateContext {
  /** The app's `hasAdvancedListingPermission`: without it gamingOptions and trailers stay null (manage-app-submissions.md notes). */
  advancedListings: boolean;
}

/**
 * The data of a submission after a PUT of `body` onto `current`. Known fields are type-checked
 * against the documented enums; fields the body leaves out keep their value (the Store keeps
 * data the request does not state, except as below).
 *
 * - `pricing`: the whole object must be sent. Left out or null: 400 "Pricing data was not
 *   provided in the request."; `priceId` "Base": 400 "'Base' is not a valid PriceId for base
 *   price."; `priceId` null or left out, or `pricing: {}`: accepted, and the product becomes Free.
 *   All measured against the live API (msstore-cli PR #175; msstore-cli#66, #112; StoreBroker#68).
 * - Packages: every package of the submission must still be listed; removal is PendingDelete.
 *   Left out: 400 "Please keep all file entries for existing packages…" (windows-dev-docs#1887).
 * - Images left out of a listing stay in the submission (StoreBroker ApplicationApi: "even though
 *   we don't include them in the updated JSON, they will still remain").
 * - `packageRolloutStatus` and `fallbackSubmissionId` in a body are ignored (package rollout resource note).
 */
export function applyUpdate(kind: ProductKind, current: Json, body: unknown, context: UpdateContext): Json {
  if (!isRecord(body))
    throw apiError(400, 'InvalidParameterValue', 'The request body must be a submission object.', 'submission');
  if (kind === 'flight') {
    for (const key of NOT_FLIGHT_FIELDS) {
      if (body[key] !== undefined) bad(key, 'the field is not part of a flight submission');
    }
  }
  const schema = SCHEMAS[kind];
  object(schema)(body, '');
  const next = clone(current);
  for (const key of Object.keys(schema)) {
    if (body[key] !== undefined) next[key] = clone(body[key]);
  }
  if (kind !== 'flight') next.pricing = updatedPricing(current.pricing, body.pricing);
  if (kind === 'application') {
    next.listings = keepImages(current.listings, next.listings);
    if (!context.advancedListings) {
      next.gamingOptions = null;
      next.trailers = null;
    }
  }
  keepRolloutFacts(current, next);
  const packages = kind === 'application' ? 'applicationPackages' : kind === 'flight' ? 'flightPackages' : undefined;
  if (packages && Array.isArray(body[packages])) {
    next[packages] = mergePackages((current[packages] as Json[] | undefined) ?? [], body[packages] as Json[]);
    const live = (next[packages] as Json[]).filter((p) => p.fileStatus !== 'PendingDelete').length;
    if (live > MAX_PACKAGES) bad(packages, `at most ${MAX_PACKAGES} packages are allowed, got ${live}`);
  }
  if (kind === 'inappproduct' && (!isRecord(next.listings) || Object.keys(next.listings).length === 0)) {
    throw apiError(400, 'InvalidParameterValue', 'The size of Listings must be 1 or more', 'listings');
  }
  if (
    next.targetPublishMode === 'SpecificDate' &&
    (typeof next.targetPublishDate !== 'string' || Number.isNaN(Date.parse(next.targetPublishDate)))
  ) {
    bad('targetPublishDate', 'a date is required when targetPublishMode is SpecificDate');
  }
  return next;
}

function updatedPricing(current: unknown, sent: unknown): Json {
  if (sent === undefined || sent === null) {
    throw apiError(400, 'InvalidParameterValue', 'Pricing data was not provided in the request.', 'pricing');
  }
  const pricing = clone(sent as Json);
  if (pricing.priceId === 'Base') {
    throw apiError(400, 'InvalidParameterValue', "'Base' is not a valid PriceId for base price.", 'pricing');
  }
  // No price named: accepted with 200, and the product silently becomes free.
  if (pricing.priceId === undefined || pricing.priceId === null) pricing.priceId = 'Free';
  // Read-only, and seen to flip to false after any PUT, even one that echoes the submission.
  pricing.isAdvancedPricingModel = false;
  pricing.sales = isRecord(current) && Array.isArray(current.sales) ? current.sales : [];
  pricing.marketSpecificPricings ??= {};
  return pricing;
}

/** Images of the current listings that the body leaves out come back (they stay in the submission). */
function keepImages(current: unknown, next: unknown): unknown {
  if (!isRecord(current) || !isRecord(next)) return next;
  for (const [lang, listing] of Object.entries(next)) {
    const before = current[lang];
    if (!isRecord(listing) || !isRecord(before)) continue;
    const restore = (was: unknown, now: unknown): void => {
      if (!isRecord(was) || !isRecord(now) || !Array.isArray(was.images)) return;
      if (!Array.isArray(now.images)) {
        now.images = clone(was.images);
        return;
      }
      const sent = now.images as Json[];
      for (const old of was.images as Json[]) {
        const kept = sent.some(
          (img) => (typeof old.id === 'string' && img.id === old.id) || img.fileName === old.fileName,
        );
        if (!kept) sent.push(clone(old));
      }
    };
    restore(before.baseListing, listing.baseListing);
    if (isRecord(before.platformOverrides) && isRecord(listing.platformOverrides)) {
      for (const [platform, override] of Object.entries(listing.platformOverrides)) {
        restore(before.platformOverrides[platform], override);
      }
    }
  }
  return next;
}

function keepRolloutFacts(current: Json, next: Json): void {
  const before = isRecord(current.packageDeliveryOptions) ? current.packageDeliveryOptions.packageRollout : undefined;
  const after = isRecord(next.packageDeliveryOptions) ? next.packageDeliveryOptions.packageRollout : undefined;
  if (!isRecord(after)) return;
  const was = isRecord(before) ? before : {};
  after.packageRolloutStatus = was.packageRolloutStatus ?? 'PackageRolloutNotStarted';
  after.fallbackSubmissionId = was.fallbackSubmissionId ?? '0';
}

function mergePackages(existing: Json[], incoming: Json[]): Json[] {
  const matches = (e: Json, p: Json): boolean =>
    (typeof p.id === 'string' && p.id !== '' && e.id === p.id) || e.fileName === p.fileName;
  const missing = existing.filter((e) => !incoming.some((p) => matches(e, p)));
  if (missing.length > 0) {
    throw apiError(
      400,
      'InvalidParameterValue',
      'Please keep all file entries for existing packages. If you wish to remove a package, mark it as PendingDelete. ' +
        `The following packages are missing in your update: ${missing.map((m) => String(m.id ?? m.fileName)).join(', ')}`,
      'packages',
    );
  }
  const result = existing.map((p) => clone(p));
  for (const p of incoming) {
    const at = result.findIndex((e) => matches(e, p));
    // Only these fields are the client's to set; the rest comes from the package itself.
    const own = {
      fileName: p.fileName,
      fileStatus: p.fileStatus,
      minimumDirectXVersion: p.minimumDirectXVersion ?? 'None',
      minimumSystemRam: p.minimumSystemRam ?? 'None',
    };
    if (at >= 0) result[at] = { ...result[at], ...own };
    else result.push(own);
  }
  return result;
}
