/**
 * Checks of request bodies, rule by rule from the "Request Parameters" tables of
 * windows-dev-docs hub/apps/publish/store-submission-api.md. Property names are matched without
 * regard to case and unknown ones are ignored, as an ASP.NET service binding JSON does
 * (msstore-cli serializes `webSite` and `subCategory` where the docs write `website` and
 * `subcategory`, MSStore.API/Models/Properties.cs, and it works).
 */
import {
  ARCHITECTURES,
  CATEGORIES,
  DISCOVERABILITY,
  ERROR_SCENARIOS,
  FREE_TRIAL,
  LANGUAGES,
  LISTING_LIMITS,
  MARKETS,
  PACKAGE_TYPES,
  PRICING,
  REQUIREMENT_VALUES,
  SYSTEM_FEATURES,
  SYSTEM_REQUIREMENTS,
} from './catalog';
import {
  type ErrorDetail,
  type Json,
  type ListingRequirement,
  type ResponseError,
  type Win32Listing,
  type Win32Package,
  defaultAvailability,
  defaultProperties,
  emptyListing,
} from './state';

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` with its keys spelled as in `known` (matched case-insensitively); other keys dropped. */
export function canonical(value: Json, known: readonly string[]): Json {
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const name = byLower.get(k.toLowerCase());
    if (name !== undefined) out[name] = v;
  }
  return out;
}

/** Collects problems as the API reports them: one `errors` entry each, with the module as `target`. */
export class Problems {
  readonly list: ResponseError[] = [];
  constructor(private readonly target: string) {}
  add(message: string, target = this.target): void {
    this.list.push({ code: 'badrequest', message, target });
  }
}

export const PACKAGE_FIELDS = [
  'packageId',
  'packageUrl',
  'languages',
  'architectures',
  'isSilentInstall',
  'installerParameters',
  'genericDocUrl',
  'errorDetails',
  'packageType',
] as const;

export const PACKAGE_URL_RULE =
  'Package URL should begin with https:// and should point to a versioned, downloadable package.';

function isLoopback(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/**
 * The Store downloads packages over HTTPS only (the message users see: windows-dev-docs#4770;
 * "HTTPS-enabled download URL", hub/apps/publish/publish-your-app/msi/app-package-requirements.md).
 * Plain HTTP to a loopback host is let through when allowed: the sandbox's Azurite has no TLS.
 */
export function packageUrlProblem(raw: unknown, allowLoopbackHttp: boolean): string | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return 'packageUrl is required.';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return PACKAGE_URL_RULE;
  }
  const https = url.protocol === 'https:';
  const loopbackHttp = url.protocol === 'http:' && allowLoopbackHttp && isLoopback(url.hostname);
  if (!https && !loopbackHttp) return PACKAGE_URL_RULE;
  const file = url.pathname.split('/').pop() ?? '';
  if (!file) return PACKAGE_URL_RULE;
  return undefined;
}

function stringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function validUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * One package as a full update or a patch leaves it: `base` is the package being patched (or
 * undefined for a full update, where every field not given takes its default).
 */
export function checkPackage(
  raw: unknown,
  at: string,
  problems: Problems,
  allowLoopbackHttp: boolean,
  base?: Win32Package,
): Omit<Win32Package, 'packageId'> {
  const given = isRecord(raw) ? canonical(raw, PACKAGE_FIELDS) : {};
  if (!isRecord(raw)) problems.add(`${at} must be an object.`);
  const merged: Json = {
    languages: [],
    architectures: [],
    installerParameters: '',
    genericDocUrl: '',
    errorDetails: [],
    ...(base ? structuredClone(base) : {}),
    ...given,
  };
  const urlProblem = packageUrlProblem(merged.packageUrl, allowLoopbackHttp);
  if (urlProblem) problems.add(`${at}.packageUrl: ${urlProblem}`);

  if (!stringList(merged.languages) || merged.languages.length === 0) {
    problems.add(`${at}.languages is required: at least one language code.`);
  } else {
    for (const l of merged.languages)
      if (!LANGUAGES.has(l.toLowerCase())) problems.add(`${at}.languages: '${l}' is not a supported language code.`);
  }
  if (!stringList(merged.architectures) || merged.architectures.length !== 1) {
    problems.add(`${at}.architectures: Should contain a single architecture - ${ARCHITECTURES.join(', ')}.`);
  } else if (!(ARCHITECTURES as readonly string[]).includes(merged.architectures[0]!)) {
    problems.add(
      `${at}.architectures: '${merged.architectures[0]}' is not one of ${ARCHITECTURES.join(', ')} (letter case included).`,
    );
  }
  if (typeof merged.isSilentInstall !== 'boolean') problems.add(`${at}.isSilentInstall is required (true or false).`);
  if (typeof merged.installerParameters !== 'string') problems.add(`${at}.installerParameters must be a string.`);
  else if (merged.isSilentInstall === false && merged.installerParameters.trim() === '')
    problems.add(`${at}.installerParameters is required when isSilentInstall is false.`);

  const type = typeof merged.packageType === 'string' ? merged.packageType : undefined;
  if (!type || !(PACKAGE_TYPES as readonly string[]).includes(type))
    problems.add(`${at}.packageType is required: one of ${PACKAGE_TYPES.join(', ')}.`);
  if (typeof merged.genericDocUrl !== 'string') problems.add(`${at}.genericDocUrl must be a string.`);
  else if (type === 'exe' && !validUrl(merged.genericDocUrl))
    problems.add(
      `${at}.genericDocUrl is required for packageType exe: a link to the document describing the installer's custom error codes.`,
    );
  const errorDetails = checkErrorDetails(merged.errorDetails, `${at}.errorDetails`, problems);
  return {
    packageUrl: typeof merged.packageUrl === 'string' ? merged.packageUrl : '',
    languages: stringList(merged.languages) ? merged.languages : [],
    architectures: stringList(merged.architectures) ? merged.architectures : [],
    isSilentInstall: merged.isSilentInstall === true,
    installerParameters: typeof merged.installerParameters === 'string' ? merged.installerParameters : '',
    genericDocUrl: typeof merged.genericDocUrl === 'string' ? merged.genericDocUrl : '',
    errorDetails,
    packageType: type ?? '',
  };
}

function checkErrorDetails(raw: unknown, at: string, problems: Problems): ErrorDetail[] {
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.add(`${at} must be an array.`);
    return [];
  }
  return raw.map((item, i) => {
    const d = isRecord(item) ? canonical(item, ['errorScenario', 'errorScenarioDetails']) : {};
    const scenario = typeof d.errorScenario === 'string' ? d.errorScenario : '';
    if (!(ERROR_SCENARIOS as readonly string[]).includes(scenario))
      problems.add(`${at}[${i}].errorScenario must be one of ${ERROR_SCENARIOS.join(', ')}.`);
    const details = Array.isArray(d.errorScenarioDetails) ? d.errorScenarioDetails : [];
    return {
      errorScenario: scenario,
      errorScenarioDetails: details.map((x, j) => {
        const v = isRecord(x) ? canonical(x, ['errorValue', 'errorUrl']) : {};
        if (typeof v.errorValue !== 'string' || v.errorValue === '')
          problems.add(`${at}[${i}].errorScenarioDetails[${j}].errorValue is required.`);
        if (
          v.errorUrl !== undefined &&
          (typeof v.errorUrl !== 'string' || (v.errorUrl !== '' && !validUrl(v.errorUrl)))
        )
          problems.add(`${at}[${i}].errorScenarioDetails[${j}].errorUrl must be a valid URL.`);
        return {
          errorValue: typeof v.errorValue === 'string' ? v.errorValue : '',
          errorUrl: typeof v.errorUrl === 'string' ? v.errorUrl : '',
        };
      }),
    };
  });
}

export const LISTING_FIELDS = [
  'language',
  'description',
  'whatsNew',
  'productFeatures',
  'shortDescription',
  'searchTerms',
  'additionalLicenseTerms',
  'copyright',
  'developedBy',
  'sortTitle',
  'requirements',
  'contactInfo',
] as const;

const TEXT_LIMITS: Record<string, number> = {
  description: LISTING_LIMITS.description,
  whatsNew: LISTING_LIMITS.whatsNew,
  shortDescription: LISTING_LIMITS.shortDescription,
  additionalLicenseTerms: LISTING_LIMITS.additionalLicenseTerms,
  copyright: LISTING_LIMITS.copyright,
  developedBy: LISTING_LIMITS.developedBy,
  contactInfo: LISTING_LIMITS.contactInfo,
  sortTitle: 255,
};

/**
 * A listing as the update leaves it. `base` is the language's current listing for a patch, or
 * an empty one for a full update (fields not given take their defaults, and the required ones
 * must be given).
 */
export function checkListing(raw: Json, base: Win32Listing, full: boolean, problems: Problems): Win32Listing {
  const given = canonical(raw, LISTING_FIELDS);
  const at = `listings(${typeof given.language === 'string' ? given.language : '?'})`;
  const merged: Json = { ...structuredClone(base), ...given, language: base.language };
  for (const [field, limit] of Object.entries(TEXT_LIMITS)) {
    const v = merged[field];
    if (typeof v !== 'string') problems.add(`${at}.${field} must be a string.`);
    else if (v.length > limit) problems.add(`${at}.${field}: Character limit = ${limit} (got ${v.length}).`);
  }
  if (full && (typeof merged.description !== 'string' || merged.description.trim() === ''))
    problems.add(`${at}.description is required.`);
  if (full && (typeof merged.additionalLicenseTerms !== 'string' || merged.additionalLicenseTerms.trim() === ''))
    problems.add(`${at}.additionalLicenseTerms is required.`);
  const features = merged.productFeatures;
  if (!stringList(features)) problems.add(`${at}.productFeatures must be an array of strings.`);
  else {
    if (features.length > LISTING_LIMITS.features)
      problems.add(`${at}.productFeatures: Up to ${LISTING_LIMITS.features} features (got ${features.length}).`);
    features.forEach((f, i) => {
      if (f.length > LISTING_LIMITS.featureLength)
        problems.add(`${at}.productFeatures[${i}]: ${LISTING_LIMITS.featureLength} characters per feature.`);
    });
  }
  const terms = merged.searchTerms;
  if (!stringList(terms)) problems.add(`${at}.searchTerms must be an array of strings.`);
  else {
    if (terms.length > LISTING_LIMITS.searchTerms)
      problems.add(`${at}.searchTerms: Up to ${LISTING_LIMITS.searchTerms} search terms (got ${terms.length}).`);
    terms.forEach((t, i) => {
      if (t.length > LISTING_LIMITS.searchTermLength)
        problems.add(`${at}.searchTerms[${i}]: ${LISTING_LIMITS.searchTermLength} characters per search term.`);
    });
    const words = new Set(terms.flatMap((t) => t.toLowerCase().split(/\s+/).filter(Boolean)));
    if (words.size > LISTING_LIMITS.searchTermWords)
      problems.add(
        `${at}.searchTerms: ${LISTING_LIMITS.searchTermWords} unique words TOTAL across all search terms (got ${words.size}).`,
      );
  }
  const requirements = checkRequirements(merged.requirements, `${at}.requirements`, problems);
  return { ...(merged as unknown as Win32Listing), requirements };
}

function checkRequirements(raw: unknown, at: string, problems: Problems): ListingRequirement[] {
  if (!Array.isArray(raw)) {
    problems.add(`${at} must be an array.`);
    return [];
  }
  const out = raw.map((item, i) => {
    const r = isRecord(item) ? canonical(item, ['minimumHardware', 'recommendedHardware']) : {};
    for (const f of ['minimumHardware', 'recommendedHardware'] as const) {
      const v = r[f] ?? '';
      if (typeof v !== 'string') problems.add(`${at}[${i}].${f} must be a string.`);
      else if (v.length > LISTING_LIMITS.requirementLength)
        problems.add(`${at}[${i}].${f}: Character limit = ${LISTING_LIMITS.requirementLength}.`);
    }
    return {
      minimumHardware: typeof r.minimumHardware === 'string' ? r.minimumHardware : '',
      recommendedHardware: typeof r.recommendedHardware === 'string' ? r.recommendedHardware : '',
    };
  });
  const items = out.reduce((n, r) => n + (r.minimumHardware ? 1 : 0) + (r.recommendedHardware ? 1 : 0), 0);
  if (items > LISTING_LIMITS.requirements)
    problems.add(`${at}: Up to ${LISTING_LIMITS.requirements} items TOTAL between minimum and recommended.`);
  return out;
}

export function newListing(language: string): Win32Listing {
  return emptyListing(language);
}

const PROPERTY_FIELDS = [
  'isPrivacyPolicyRequired',
  'privacyPolicyUrl',
  'website',
  'supportContactInfo',
  'certificationNotes',
  'category',
  'subcategory',
  'productDeclarations',
  'isSystemFeatureRequired',
  'systemRequirementDetails',
] as const;

export function checkProperties(raw: unknown, base: Json, full: boolean, problems: Problems): Json {
  if (!isRecord(raw)) {
    problems.add('properties must be an object.');
    return base;
  }
  const given = canonical(raw, PROPERTY_FIELDS);
  const merged: Json = { ...(full ? defaultProperties() : structuredClone(base)), ...given };
  if (typeof merged.isPrivacyPolicyRequired !== 'boolean')
    problems.add('properties.isPrivacyPolicyRequired is required (true or false).');
  const privacy = merged.privacyPolicyUrl;
  if (merged.isPrivacyPolicyRequired === true && (typeof privacy !== 'string' || !validUrl(privacy)))
    problems.add(
      'properties.privacyPolicyUrl is required when isPrivacyPolicyRequired is true and must be a valid URL.',
    );
  if (typeof merged.website !== 'string' || (merged.website !== '' && !validUrl(merged.website)))
    problems.add('properties.website must be a valid URL.');
  const support = merged.supportContactInfo;
  if (
    typeof support !== 'string' ||
    (support !== '' && !validUrl(support) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(support))
  )
    problems.add('properties.supportContactInfo must be a valid URL or email address.');
  const notes = merged.certificationNotes;
  if (typeof notes !== 'string') problems.add('properties.certificationNotes must be a string.');
  else if (notes.length > LISTING_LIMITS.certificationNotes)
    problems.add(`properties.certificationNotes: Character limit = ${LISTING_LIMITS.certificationNotes}.`);
  const category = typeof merged.category === 'string' ? merged.category : '';
  const subs = CATEGORIES.get(category);
  if (category !== '' && !subs) problems.add(`properties.category: '${category}' is not a category.`);
  const sub = typeof merged.subcategory === 'string' ? merged.subcategory : '';
  if (subs && sub !== '' && !subs.includes(sub))
    problems.add(
      `properties.subcategory: '${sub}' is not a sub-category of ${category}${subs.length ? ` (${subs.join(', ')})` : ' (it has none)'}.`,
    );
  const declarations = isRecord(merged.productDeclarations)
    ? canonical(merged.productDeclarations, ['dependsOnDriversOrNT', 'accessibilitySupport', 'penAndInkSupport'])
    : undefined;
  if (
    !declarations ||
    Object.values(declarations).length < 3 ||
    Object.values(declarations).some((v) => typeof v !== 'boolean')
  )
    problems.add(
      'properties.productDeclarations needs dependsOnDriversOrNT, accessibilitySupport and penAndInkSupport (true or false).',
    );
  else merged.productDeclarations = declarations;
  merged.isSystemFeatureRequired = checkList(
    merged.isSystemFeatureRequired,
    'properties.isSystemFeatureRequired',
    ['isRequired', 'isRecommended', 'hardwareItemType'],
    SYSTEM_FEATURES,
    problems,
    (item, at) => {
      if (typeof item.isRequired !== 'boolean' || typeof item.isRecommended !== 'boolean')
        problems.add(`${at}: isRequired and isRecommended are required (true or false).`);
    },
  );
  merged.systemRequirementDetails = checkList(
    merged.systemRequirementDetails,
    'properties.systemRequirementDetails',
    ['minimumRequirement', 'recommendedRequirement', 'hardwareItemType'],
    SYSTEM_REQUIREMENTS,
    problems,
    (item, at) => {
      const allowed = REQUIREMENT_VALUES[String(item.hardwareItemType)];
      for (const f of ['minimumRequirement', 'recommendedRequirement']) {
        const v = item[f];
        if (typeof v !== 'string') problems.add(`${at}.${f} is required.`);
        else if (v.length > LISTING_LIMITS.systemRequirementText)
          problems.add(`${at}.${f}: MaxLength = ${LISTING_LIMITS.systemRequirementText}.`);
        else if (allowed && v !== '' && !allowed.includes(v))
          problems.add(
            `${at}.${f}: Allowed Values in hardwareItemType = ${String(item.hardwareItemType)}: ${allowed.join(', ')}.`,
          );
      }
    },
  );
  return merged;
}

function checkList(
  raw: unknown,
  at: string,
  fields: readonly string[],
  types: readonly string[],
  problems: Problems,
  each: (item: Json, at: string) => void,
): Json[] {
  if (!Array.isArray(raw)) {
    problems.add(`${at} must be an array.`);
    return [];
  }
  return raw.map((x, i) => {
    const item = isRecord(x) ? canonical(x, fields) : {};
    const itemAt = `${at}[${i}]`;
    if (!types.includes(String(item.hardwareItemType)))
      problems.add(`${itemAt}.hardwareItemType must be one of ${types.join(', ')}.`);
    each(item, itemAt);
    return item;
  });
}

const AVAILABILITY_FIELDS = ['markets', 'discoverability', 'enableInFutureMarkets', 'pricing', 'freeTrial'] as const;

export function checkAvailability(raw: unknown, base: Json, full: boolean, problems: Problems): Json {
  if (!isRecord(raw)) {
    problems.add('availability must be an object.');
    return base;
  }
  const merged: Json = {
    ...(full ? defaultAvailability() : structuredClone(base)),
    ...canonical(raw, AVAILABILITY_FIELDS),
  };
  if (!stringList(merged.markets) || (full && merged.markets.length === 0))
    problems.add('availability.markets is required: market codes such as US.');
  else
    for (const m of merged.markets) if (!MARKETS.has(m)) problems.add(`availability.markets: '${m}' is not a market.`);
  if (!(DISCOVERABILITY as readonly string[]).includes(String(merged.discoverability)))
    problems.add(`availability.discoverability must be one of ${DISCOVERABILITY.join(', ')}.`);
  if (typeof merged.enableInFutureMarkets !== 'boolean')
    problems.add('availability.enableInFutureMarkets is required (true or false).');
  const pricing = String(merged.pricing);
  if (!(PRICING as readonly string[]).includes(pricing))
    problems.add(`availability.pricing must be one of ${PRICING.join(', ')}.`);
  const needsTrial = pricing === 'PAID' || pricing === 'SUBSCRIPTION';
  if (needsTrial && !(FREE_TRIAL as readonly string[]).includes(String(merged.freeTrial)))
    problems.add(`availability.freeTrial is required when pricing is ${pricing}: one of ${FREE_TRIAL.join(', ')}.`);
  return merged;
}
