import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { SUBMISSION_SCHEMA, validateManifest } from '../../../lib/manifest';
import { APP_ID, FLIGHT_ID, manifests } from '../../helpers/zips';

const schemaPath = join(__dirname, '../../../lib/manifest/submission.schema.json');
const defs = SUBMISSION_SCHEMA.$defs as Record<string, { properties?: Record<string, { not?: unknown }> }>;
const fieldsOf = (def: string): string[] => Object.keys(defs[def]!.properties ?? {});

describe('submission.schema.json', () => {
  test('is a valid draft 2020-12 JSON Schema, and the file is what validation uses', () => {
    const fromDisk = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
    expect(fromDisk).toEqual(SUBMISSION_SCHEMA);
    expect(fromDisk.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    // A plain Ajv with only the editor annotation added: no project code involved.
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    expect(ajv.validateSchema(fromDisk)).toBe(true);
    expect(ajv.errors ?? null).toBeNull();
    expect(() => ajv.compile(fromDisk)).not.toThrow();
  });

  test('describes every field of the three submission kinds (store-api.md), writable or read-only', () => {
    const app = [
      'applicationCategory',
      'pricing',
      'visibility',
      'targetPublishMode',
      'targetPublishDate',
      'listings',
      'hardwarePreferences',
      'automaticBackupEnabled',
      'canInstallOnRemovableMedia',
      'isGameDvrEnabled',
      'gamingOptions',
      'hasExternalInAppProducts',
      'meetAccessibilityGuidelines',
      'notesForCertification',
      'applicationPackages',
      'packageDeliveryOptions',
      'enterpriseLicensing',
      'allowMicrosoftDecideAppAvailabilityToFutureDeviceFamilies',
      'allowTargetFutureDeviceFamilies',
      'friendlyName',
      'trailers',
      'isSeekEnabled',
      'id',
      'status',
      'statusDetails',
      'fileUploadUrl',
    ];
    const flight = [
      'id',
      'flightId',
      'status',
      'statusDetails',
      'flightPackages',
      'packageDeliveryOptions',
      'fileUploadUrl',
      'targetPublishMode',
      'targetPublishDate',
      'notesForCertification',
    ];
    const addon = [
      'id',
      'contentType',
      'keywords',
      'lifetime',
      'listings',
      'pricing',
      'targetPublishDate',
      'targetPublishMode',
      'tag',
      'visibility',
      'status',
      'statusDetails',
      'fileUploadUrl',
      'friendlyName',
    ];
    expect(fieldsOf('appSubmission').sort()).toEqual([...app].sort());
    expect(fieldsOf('flightSubmission').sort()).toEqual([...flight].sort());
    expect(fieldsOf('addonSubmission').sort()).toEqual([...addon].sort());
    const readOnly = (def: string) => fieldsOf(def).filter((f) => defs[def]!.properties![f]!.not !== undefined);
    expect(readOnly('appSubmission')).toEqual(['id', 'status', 'statusDetails', 'fileUploadUrl']);
    expect(readOnly('flightSubmission')).toEqual(['id', 'flightId', 'status', 'statusDetails', 'fileUploadUrl']);
    expect(fieldsOf('baseListing')).toEqual(
      expect.arrayContaining([
        'copyrightAndTrademarkInfo',
        'keywords',
        'licenseTerms',
        'description',
        'features',
        'releaseNotes',
        'images',
        'recommendedHardware',
        'minimumHardware',
        'title',
        'shortDescription',
        'shortTitle',
        'sortTitle',
        'voiceTitle',
        'devStudio',
      ]),
    );
  });

  test('a manifest naming the schema in $schema validates, and the repo path it names exists', () => {
    const $schema = './lib/manifest/submission.schema.json';
    expect(existsSync(join(__dirname, '../../..', $schema))).toBe(true);
    expect(() => validateManifest(Buffer.from(JSON.stringify({ $schema, ...manifests.app() })), [])).not.toThrow();
    expect(() => validateManifest(Buffer.from(JSON.stringify({ $schema: 42, ...manifests.app() })), [])).toThrow(
      /\$schema: must be a string/,
    );
  });

  test('a realistic app submission in the Store’s JSON validates', () => {
    const submission = {
      applicationCategory: 'BooksAndReference_EReader',
      pricing: {
        trialPeriod: 'FifteenDays',
        marketSpecificPricings: {},
        sales: [],
        priceId: 'Tier2',
        isAdvancedPricingModel: true,
      },
      visibility: 'Public',
      targetPublishMode: 'Manual',
      targetPublishDate: '1601-01-01T00:00:00Z',
      listings: {
        'en-us': {
          baseListing: {
            copyrightAndTrademarkInfo: '',
            keywords: ['epub'],
            licenseTerms: '',
            privacyPolicy: '',
            supportContact: '',
            websiteUrl: '',
            description: 'Description',
            features: ['Free ebook reader'],
            releaseNotes: '',
            images: [{ fileName: 'contoso.png', description: 'Main page', imageType: 'Screenshot' }],
            recommendedHardware: [],
            title: 'Contoso ebook reader',
          },
          platformOverrides: { Windows81: { description: 'Ebook reader for Windows 8.1' } },
        },
      },
      hardwarePreferences: ['Touch'],
      automaticBackupEnabled: false,
      canInstallOnRemovableMedia: true,
      isGameDvrEnabled: false,
      gamingOptions: [],
      hasExternalInAppProducts: false,
      meetAccessibilityGuidelines: true,
      notesForCertification: '',
      applicationPackages: [{ fileName: 'contoso_app.appx', minimumDirectXVersion: 'None', minimumSystemRam: 'None' }],
      packageDeliveryOptions: {
        packageRollout: {
          isPackageRollout: false,
          packageRolloutPercentage: 0.0,
          packageRolloutStatus: 'PackageRolloutNotStarted',
          fallbackSubmissionId: '0',
        },
        isMandatoryUpdate: false,
        mandatoryUpdateEffectiveDate: '1601-01-01T00:00:00.0000000Z',
      },
      enterpriseLicensing: 'Online',
      allowMicrosoftDecideAppAvailabilityToFutureDeviceFamilies: true,
      allowTargetFutureDeviceFamilies: { Desktop: false, Mobile: true, Holographic: true, Xbox: false, Team: true },
      friendlyName: 'Submission 2',
      trailers: [],
    };
    const entries = ['contoso.png', 'contoso_app.appx'].map((name) => ({
      name,
      directory: false,
      compressedSize: 1,
      uncompressedSize: 1,
    }));
    expect(
      validateManifest(
        Buffer.from(JSON.stringify({ target: { kind: 'app', applicationId: APP_ID }, submission })),
        entries,
      ).submission,
    ).toEqual(submission);
    const flight = {
      flightPackages: [{ fileName: 'contoso_app.appx' }],
      packageDeliveryOptions: { isMandatoryUpdate: true },
      targetPublishMode: 'Immediate',
      notesForCertification: 'n',
    };
    expect(() =>
      validateManifest(
        Buffer.from(
          JSON.stringify({
            target: { kind: 'flight', applicationId: APP_ID, flightId: FLIGHT_ID },
            submission: flight,
          }),
        ),
        entries,
      ),
    ).not.toThrow();
  });
});
