/** The manifest as the rest of the app sees it: validated, with option defaults applied. */
import type { RampStep } from '../ramp';

export const MANIFEST_NAME = 'submission.json';
/** A manifest is a few KiB; anything near this is a mistake or an attack. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** What the Store accepts per track. */
export const MAX_PACKAGES = 25;
export const PACKAGE_EXTENSIONS = [
  '.msix',
  '.msixbundle',
  '.msixupload',
  '.appx',
  '.appxbundle',
  '.appxupload',
] as const;

export type TargetKind = 'app' | 'flight' | 'addon' | 'win32';

/** Installers of MSI/EXE apps ("The installer binary may only be an .msi or .exe": windows-dev-docs hub/apps/publish/publish-your-app/msi/app-package-requirements.md). */
export const INSTALLER_EXTENSIONS = ['.msi', '.exe'] as const;

export interface AppTarget {
  kind: 'app';
  applicationId: string;
}

/** Flight group IDs are 19-digit strings, like every Store ID above 2^53. */
export interface FlightSpec {
  friendlyName: string;
  groupIds: string[];
  rankHigherThan?: string;
}

export type FlightTarget =
  | { kind: 'flight'; applicationId: string; flightId: string; flight?: undefined }
  | { kind: 'flight'; applicationId: string; flight: FlightSpec; flightId?: undefined };

export interface AddonSpec {
  productId: string;
  productType: 'Durable' | 'Consumable';
  applicationId: string;
}

export type AddonTarget =
  | { kind: 'addon'; inAppProductId: string; addon?: undefined }
  | { kind: 'addon'; addon: AddonSpec; inAppProductId?: undefined };

/** An MSI or EXE app, through the Store's submission API for them; `productId` is its Partner Center id (a GUID). */
export interface Win32Target {
  kind: 'win32';
  productId: string;
}

export type Target = AppTarget | FlightTarget | AddonTarget | Win32Target;

export interface ManifestOptions {
  /** What to do when the product already has a pending submission. */
  pendingSubmission: 'replace' | 'fail';
  /** replace: the clone's packages become PendingDelete; add: they stay. */
  packages: 'replace' | 'add';
  waitFor: 'commit' | 'published';
  dryRun: boolean;
  /** What to do when the published submission has a package rollout in progress. */
  existingRollout: 'fail' | 'finalize' | 'halt';
  /** win32 only: what to do while a submission of the product is in progress (default wait). */
  ongoingSubmission?: 'wait' | 'fail';
  /** auto (default): commit at once; approval: wait for approve or reject (apps, flights, add-ons). */
  commit?: 'auto' | 'approval';
  /** A package rollout ramp (lib/ramp.ts): apps and flights. */
  rollout?: RampStep[];
}

export const DEFAULT_OPTIONS: Readonly<ManifestOptions> = Object.freeze({
  pendingSubmission: 'replace',
  packages: 'replace',
  waitFor: 'commit',
  dryRun: false,
  existingRollout: 'fail',
});

export interface Manifest {
  target: Target;
  /** The fields to change, in the Store's JSON for the target's kind ({} when not given). */
  submission: Record<string, unknown>;
  options: ManifestOptions;
}

export function isInstallerFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return INSTALLER_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export function isPackageFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return PACKAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** The key under which a submission of this kind lists its packages. */
export function packagesKey(kind: TargetKind): 'applicationPackages' | 'flightPackages' | undefined {
  return kind === 'app' ? 'applicationPackages' : kind === 'flight' ? 'flightPackages' : undefined;
}

/** The Store's own documentation writes some fileNames with "\"; zip entries always use "/". */
export function zipPath(fileName: string): string {
  return fileName.replace(/\\/g, '/');
}
