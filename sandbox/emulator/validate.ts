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
const date: Rule = (v, f) => {
  if (v !== null && (typeof v !== 'string' || Number.isNaN(Date.parse(v)))) bad(f, 'expected an ISO 8601 date');
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
/** An object whose known fields are checked; unknown fields are ignored, as the service does. */
function object(fields: Record<string, Rule>, nullable = false): Rule {
  return (v, f) => {
    if (v === null && nullable) return;
    if (!isRecord(v)) bad(f, `expected an object, got ${typeName(v)}`);
    for (const [key, rule] of Object.entries(fields)) {
      if (v[key] !== undefined || REQUIRED.has(rule)) rule(v[key], f ? `${f}.${key}` : key);
    }
  };
}
function mapOf(rule: Rule): Rule {
  return (v, f) => {
    if (!isRecord(v)) bad(f, `expected an object, got ${typeName(v)}`);
    for (const [key, value] of Object.entries(v)) rule(value, `${f}.${key}`);
  };
}
function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

const fileStatus = oneOf('None', 'PendingUpload', 'Uploaded', 'PendingDelete');
const requiredFileStatus = required(fileStatus);

const pkg = object({
  fileName: requiredStr,
  fileStatus: requiredFileStatus,
  id: str,
  version: str,
  architecture: str,
  languages: arrayOf(str),
  capabilities: arrayOf(str),
  minimumDirectXVersion: str,
  minimumSystemRam: str,
  targetDeviceFamilies: arrayOf(str),
});
const image = object({
  fileName: requiredStr,
  fileStatus: requiredFileStatus,
  id: str,
  description: str,
  imageType: str,
});
const listingText = {
  copyrightAndTrademarkInfo: str,
  keywords: arrayOf(str),
  licenseTerms: str,
  privacyPolicy: str,
  supportContact: str,
  websiteUrl: str,
  description: str,
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
const appListing = object({ baseListing: object(listingText), platformOverrides: mapOf(object(listingText)) });
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
const pricing = object({
  trialPeriod: str,
  marketSpecificPricings: mapOf(str),
  sales: arrayOf(any),
  priceId: str,
  isAdvancedPricingModel: bool,
});
const publishMode = oneOf('Immediate', 'Manual', 'SpecificDate');
const visibility = oneOf('Public', 'Private', 'Hidden', 'NotSet');

const SCHEMAS: Record<ProductKind, Record<string, Rule>> = {
  application: {
    applicationCategory: str,
    pricing,
    visibility,
    targetPublishMode: publishMode,
    targetPublishDate: date,
    listings: mapOf(appListing),
    hardwarePreferences: arrayOf(str),
    automaticBackupEnabled: bool,
    canInstallOnRemovableMedia: bool,
    isGameDvrEnabled: bool,
    gamingOptions: arrayOf(object({})),
    hasExternalInAppProducts: bool,
    meetAccessibilityGuidelines: bool,
    notesForCertification: str,
    applicationPackages: arrayOf(pkg),
    packageDeliveryOptions,
    enterpriseLicensing: str,
    allowMicrosoftDecideAppAvailabilityToFutureDeviceFamilies: bool,
    allowTargetFutureDeviceFamilies: mapOf(bool),
    friendlyName: str,
    trailers: arrayOf(object({})),
    isSeekEnabled: bool,
  },
  flight: {
    flightPackages: arrayOf(pkg),
    packageDeliveryOptions,
    targetPublishMode: publishMode,
    targetPublishDate: date,
    notesForCertification: str,
  },
  inappproduct: {
    contentType: str,
    keywords: arrayOf(str, MAX_ADDON_KEYWORDS),
    lifetime: str,
    listings: mapOf(
      object({
        description: str,
        icon: object({ fileName: requiredStr, fileStatus: requiredFileStatus }, true),
        title: str,
      }),
    ),
    pricing,
    targetPublishDate: date,
    targetPublishMode: publishMode,
    tag: str,
    visibility,
    friendlyName: str,
  },
};

/**
 * The data of a submission after a PUT of `body` onto `current`. Known fields are type-checked;
 * fields the body leaves out keep their value; packages left out of the body are kept (the service
 * merges them by id or file name) and removal needs an explicit PendingDelete.
 */
export function applyUpdate(kind: ProductKind, current: Json, body: unknown): Json {
  if (!isRecord(body))
    throw apiError(400, 'InvalidParameterValue', 'The request body must be a submission object.', 'submission');
  const schema = SCHEMAS[kind];
  object(schema)(body, '');
  const next = clone(current);
  for (const key of Object.keys(schema)) {
    if (body[key] !== undefined) next[key] = clone(body[key]);
  }
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

function mergePackages(existing: Json[], incoming: Json[]): Json[] {
  const result = existing.map((p) => clone(p));
  for (const p of incoming) {
    const at = result.findIndex(
      (e) => (typeof p.id === 'string' && p.id !== '' && e.id === p.id) || e.fileName === p.fileName,
    );
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
