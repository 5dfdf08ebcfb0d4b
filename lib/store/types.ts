/**
 * Shapes of the Store's resources. Loose on purpose: the API adds fields, and a submission
 * is read, changed and PUT back whole, so unknown fields must survive the round trip.
 * Submission, package and image ids are 19-digit numbers above 2^53: always strings.
 */

type Loose = Record<string, unknown>;

export const SUBMISSION_STATUSES = [
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

export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

export function isSubmissionStatus(value: unknown): value is SubmissionStatus {
  return typeof value === 'string' && (SUBMISSION_STATUSES as readonly string[]).includes(value);
}

export interface StoreIssue {
  /** A documented code (InvalidArchive, MissingFiles, ...) or one the docs never listed. */
  code: string;
  details: string;
}

export interface StatusDetails {
  errors: StoreIssue[];
  warnings: StoreIssue[];
  certificationReports: Array<{ date: string; reportUrl: string }>;
}

/** The pointer a product keeps to a submission; `resourceLocation` is relative to `/v1.0/my/`. */
export interface SubmissionPointer {
  id: string;
  resourceLocation?: string;
}

export interface Application extends Loose {
  id: string;
  primaryName?: string;
  packageFamilyName?: string;
  packageIdentityName?: string;
  publisherName?: string;
  firstPublishedDate?: string;
  hasAdvancedListingPermission?: boolean;
  pendingApplicationSubmission?: SubmissionPointer;
  lastPublishedApplicationSubmission?: SubmissionPointer;
}

export interface Flight extends Loose {
  flightId: string;
  friendlyName: string;
  groupIds?: string[];
  rankHigherThan?: string;
  pendingFlightSubmission?: SubmissionPointer;
  lastPublishedFlightSubmission?: SubmissionPointer;
}

export interface InAppProduct extends Loose {
  id: string;
  productId?: string;
  productType?: string;
  applications?: { value: Array<{ id: string; resourceLocation?: string }>; totalCount?: number };
  pendingInAppProductSubmission?: SubmissionPointer;
  lastPublishedInAppProductSubmission?: SubmissionPointer;
}

export type Product = Application | Flight | InAppProduct;

export type FileStatus = 'None' | 'PendingUpload' | 'Uploaded' | 'PendingDelete';

export interface SubmissionFile extends Loose {
  fileName: string;
  /** A FileStatus; typed as string because the service may add values. */
  fileStatus: string;
  id?: string;
}

export interface PackageRollout extends Loose {
  isPackageRollout?: boolean;
  packageRolloutPercentage?: number;
  packageRolloutStatus?: string;
  fallbackSubmissionId?: string;
}

/** App, flight and add-on submissions alike: known fields typed, the rest carried as is. */
export interface Submission extends Loose {
  id: string;
  status?: SubmissionStatus;
  statusDetails?: StatusDetails;
  /** A SAS URL: a secret. Register it for redaction and never persist it. */
  fileUploadUrl?: string | null;
  targetPublishMode?: string;
  targetPublishDate?: string;
  notesForCertification?: string;
  friendlyName?: string;
  flightId?: string;
  applicationPackages?: SubmissionFile[];
  flightPackages?: SubmissionFile[];
  packageDeliveryOptions?: Loose & { packageRollout?: PackageRollout };
  listings?: Record<string, Loose>;
}

export interface SubmissionStatusResult {
  status: SubmissionStatus;
  statusDetails: StatusDetails;
}

export interface NewFlight {
  friendlyName: string;
  groupIds: string[];
  rankHigherThan?: string;
}

export interface NewInAppProduct {
  /** Exactly one application. */
  applicationIds: [string];
  productId: string;
  /** `Durable` or `Consumable`. */
  productType: string;
}
