import { RestError, type BlobClient } from '@azure/storage-blob';
import type { EmulatorConfig } from './config';
import type { Faults } from './faults';
import { isRecord } from './http';
import {
  type Issue,
  type Json,
  type Store,
  type Submission,
  type SubmissionStatus,
  emptyStatusDetails,
  fileEntries,
  packageField,
} from './state';
import { commitDataProblems, commitWarnings, newTrailerFiles } from './commitChecks';
import { type PackageFacts, readUploadedPackage, versionOrder } from './packageCheck';
import { type ZipInspection, inspectZip } from './zipcheck';

/** setTimeout cannot wait longer than this; longer waits (SpecificDate far ahead) re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const IN_PROGRESS: SubmissionStatus[] = [
  'CommitStarted',
  'PreProcessing',
  'Certification',
  'Release',
  'PendingPublication',
  'Publishing',
];

export interface LifecycleDeps {
  store: Store;
  config: () => EmulatorConfig;
  faults: Faults;
  /** The blob a submission's zip was uploaded to. */
  blob: (blobName: string) => BlobClient;
}

/** The last zip check of each submission, for the admin state. */
export interface ZipCheckRecord {
  at: string;
  result: ZipInspection['kind'];
  entries?: number;
  rangeReads?: number;
}

/**
 * Moves committed submissions through CommitStarted → PreProcessing → Certification → Release →
 * PendingPublication → Publishing → Published on timers, applying submission-level faults on the way.
 * Statuses only move forward, except the injected CommitStarted → PendingCommit fallback.
 */
export class Lifecycle {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  readonly zipChecks = new Map<string, ZipCheckRecord>();
  /** What PreProcessing read from each new package, by submission and file name, for publication. */
  private readonly packageFacts = new Map<string, Map<string, PackageFacts>>();
  private stopped = false;

  constructor(private readonly deps: LifecycleDeps) {}

  commit(sub: Submission): void {
    sub.statusDetails = emptyStatusDetails();
    this.enter(sub, 'CommitStarted');
  }

  /** The "publish now" button of Partner Center for a submission waiting in Release (Manual or SpecificDate). */
  publishNow(sub: Submission): boolean {
    if (sub.status !== 'Release') return false;
    this.enter(sub, 'PendingPublication');
    return true;
  }

  /** Partner Center's "cancel submission" while it is processed: the submission ends Canceled. */
  cancelInPartnerCenter(sub: Submission): boolean {
    if (!IN_PROGRESS.includes(sub.status)) return false;
    this.enter(sub, 'Canceled');
    return true;
  }

  /** Re-arms every submission that waits without a timer (after a stuck fault was removed or timings changed). */
  resume(): void {
    for (const sub of this.deps.store.submissions.values()) {
      if (IN_PROGRESS.includes(sub.status) && !this.timers.has(sub.id)) this.schedule(sub);
    }
  }

  /** Forgets a submission (deleted, or the store was reset). */
  cancel(submissionId: string): void {
    clearTimeout(this.timers.get(submissionId));
    this.timers.delete(submissionId);
    this.zipChecks.delete(submissionId);
    this.packageFacts.delete(submissionId);
  }

  cancelAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.zipChecks.clear();
    this.packageFacts.clear();
  }

  stop(): void {
    this.stopped = true;
    this.cancelAll();
  }

  private enter(sub: Submission, status: SubmissionStatus): void {
    sub.status = status;
    sub.statusHistory.push({ status, at: new Date().toISOString() });
    this.schedule(sub);
  }

  private schedule(sub: Submission): void {
    clearTimeout(this.timers.get(sub.id));
    this.timers.delete(sub.id);
    if (this.stopped || this.deps.faults.isStuck(sub, sub.status)) return;
    const delay = this.delayFor(sub);
    if (delay === undefined) return;
    const timer = setTimeout(() => void this.step(sub), Math.min(delay, MAX_TIMER_MS));
    timer.unref();
    this.timers.set(sub.id, timer);
  }

  private delayFor(sub: Submission): number | undefined {
    const c = this.deps.config();
    switch (sub.status) {
      case 'CommitStarted':
        return c.commitProcessingMs;
      case 'PreProcessing':
        return c.preProcessingMs;
      case 'Certification':
        return c.certificationMs;
      case 'Release': {
        const mode = sub.data.targetPublishMode;
        if (mode === 'Manual') return undefined;
        if (mode === 'SpecificDate') return Math.max(c.releaseMs, publishDate(sub) - Date.now());
        return c.releaseMs;
      }
      case 'PendingPublication':
      case 'Publishing':
        return c.publishingMs / 2;
      default:
        return undefined;
    }
  }

  private isCurrent(sub: Submission): boolean {
    return !this.stopped && this.deps.store.submissions.get(sub.id) === sub;
  }

  private async step(sub: Submission): Promise<void> {
    this.timers.delete(sub.id);
    if (!this.isCurrent(sub) || this.deps.faults.isStuck(sub, sub.status)) return;
    switch (sub.status) {
      case 'CommitStarted':
        return this.finishCommit(sub);
      case 'PreProcessing':
        return this.finishPreProcessing(sub);
      case 'Certification': {
        const fault = this.deps.faults.takeFor('certificationFailed', sub);
        if (!fault) return this.enter(sub, 'Release');
        const codes = fault.codes?.length ? fault.codes : ['PackageValidationFailed'];
        sub.statusDetails.errors = codes.map((code) => ({
          code,
          details: fault.details ?? `Certification failed: ${code}.`,
        }));
        sub.statusDetails.certificationReports.push({
          date: new Date().toISOString(),
          reportUrl:
            fault.reportUrl ??
            `https://partner.microsoft.com/dashboard/products/${sub.productId}/submissions/${sub.id}/CertificationReport`,
        });
        return this.enter(sub, 'CertificationFailed');
      }
      case 'Release':
        if (sub.data.targetPublishMode === 'SpecificDate' && publishDate(sub) > Date.now()) return this.schedule(sub);
        if (this.stageFault('releaseFailed', sub, 'ServiceError', 'ReleaseFailed')) return undefined;
        return this.enter(sub, 'PendingPublication');
      case 'PendingPublication':
        return this.enter(sub, 'Publishing');
      case 'Publishing':
        if (this.stageFault('publishFailed', sub, 'ServiceError', 'PublishFailed')) return undefined;
        return this.publish(sub);
      default:
        return undefined;
    }
  }

  private async finishCommit(sub: Submission): Promise<void> {
    if (this.deps.faults.takeFor('commitFallback', sub)) {
      // Seen in the wild: the server gives up on the commit and the submission is editable again.
      sub.status = 'PendingCommit';
      sub.statusHistory.push({ status: 'PendingCommit', at: new Date().toISOString() });
      return;
    }
    const failure = this.deps.faults.takeFor('commitFailed', sub);
    if (failure) {
      const codes = failure.codes?.length ? failure.codes : ['ServiceError'];
      return this.fail(
        sub,
        codes.map((code) => ({ code, details: failure.details ?? `The commit failed: ${code}.` })),
      );
    }
    const errors = await this.checkFiles(sub);
    if (!this.isCurrent(sub) || sub.status !== 'CommitStarted') return;
    if (errors.length) return this.fail(sub, errors);
    const product = this.deps.store.productOf(sub);
    const app = sub.applicationId ? this.deps.store.application(sub.applicationId) : undefined;
    const problems = commitDataProblems(sub, app);
    if (problems.length) return this.fail(sub, problems);
    const published = product?.lastPublishedSubmissionId
      ? this.deps.store.submissions.get(product.lastPublishedSubmissionId)?.data
      : undefined;
    sub.statusDetails.warnings = commitWarnings(sub, published);
    this.enter(sub, 'PreProcessing');
  }

  /** Ends the stage failed when a fault of `kind` applies; true when it did. */
  private stageFault(
    kind: 'preProcessingFailed' | 'releaseFailed' | 'publishFailed',
    sub: Submission,
    defaultCode: string,
    status: SubmissionStatus,
  ): boolean {
    const fault = this.deps.faults.takeFor(kind, sub);
    if (!fault) return false;
    const codes = fault.codes?.length ? fault.codes : [defaultCode];
    sub.statusDetails.errors = codes.map((code) => ({ code, details: fault.details ?? `${status}: ${code}.` }));
    this.enter(sub, status);
    return true;
  }

  /**
   * The end of PreProcessing: every new package is opened and its manifest read. Its identity
   * name and publisher must be the app's, its version above the published package's of the
   * same architecture, and it must be an MSIX/APPX package; otherwise PreProcessingFailed with
   * PackageValidationFailed (manage-app-submissions.md status codes; windows-dev-docs#693).
   */
  private async finishPreProcessing(sub: Submission): Promise<void> {
    if (this.stageFault('preProcessingFailed', sub, 'PackageValidationFailed', 'PreProcessingFailed')) return;
    const errors = await this.validatePackages(sub);
    if (!this.isCurrent(sub) || sub.status !== 'PreProcessing') return;
    if (errors.length) {
      sub.statusDetails.errors = errors;
      return this.enter(sub, 'PreProcessingFailed');
    }
    assignTrailerIds(sub, this.deps.store);
    this.enter(sub, 'Certification');
  }

  private async validatePackages(sub: Submission): Promise<Issue[]> {
    const field = packageField(sub.kind);
    if (!field || !sub.upload || !Array.isArray(sub.data[field])) return [];
    const store = this.deps.store;
    const app = sub.applicationId ? store.application(sub.applicationId) : undefined;
    const product = store.productOf(sub);
    const published = product?.lastPublishedSubmissionId
      ? store.submissions.get(product.lastPublishedSubmissionId)
      : undefined;
    const publishedUnits: Array<{ architecture: string; version: string; fileName: string }> = [];
    for (const p of (published?.data[field] as Json[] | undefined) ?? []) {
      const units =
        (typeof p.id === 'string' ? store.packageUnits.get(p.id) : undefined) ??
        (typeof p.version === 'string' && typeof p.architecture === 'string'
          ? [{ architecture: p.architecture.toLowerCase(), version: p.version }]
          : []);
      for (const u of units) publishedUnits.push({ ...u, fileName: text(p.fileName) });
    }
    const facts = new Map<string, PackageFacts>();
    const errors: Issue[] = [];
    const fail = (details: string): void => void errors.push({ code: 'PackageValidationFailed', details });
    for (const entry of sub.data[field] as Json[]) {
      if (entry.fileStatus !== 'PendingUpload') continue;
      const fileName = text(entry.fileName);
      let read;
      try {
        read = await readUploadedPackage(this.deps.blob(sub.upload.blobName), fileName);
      } catch {
        return [{ code: 'ServiceError', details: 'The uploaded archive could not be read. Try again later.' }];
      }
      if (!read.ok) {
        fail(`The package ${fileName} is invalid or corrupt (error 5001): ${read.reason}.`);
        continue;
      }
      const f = read.facts;
      if (app && f.name !== app.packageIdentityName) {
        fail(
          `The package ${fileName} has the identity name '${f.name}', but this app's package identity name is '${app.packageIdentityName}'.`,
        );
      }
      if (app && f.publisher !== app.publisherName) {
        fail(
          `The package ${fileName} has the publisher '${f.publisher}', but this app's publisher is '${app.publisherName}'.`,
        );
      }
      for (const unit of f.units) {
        const older = publishedUnits.filter(
          (u) => u.architecture === unit.architecture && versionOrder(unit.version, u.version) <= 0,
        );
        for (const u of older) {
          fail(
            `The package ${fileName} (${unit.architecture}) has version ${unit.version}, which is not higher than the published package ${u.fileName} (${u.version}) for the same architecture.`,
          );
        }
      }
      facts.set(fileName, f);
    }
    if (errors.length === 0) this.packageFacts.set(sub.id, facts);
    return errors;
  }

  private fail(sub: Submission, errors: Issue[]): void {
    sub.statusDetails.errors = errors;
    this.enter(sub, 'CommitFailed');
  }

  /** Every PendingUpload file, and every file of a new trailer, must be an entry of the uploaded zip, read through its central directory. */
  private async checkFiles(sub: Submission): Promise<Issue[]> {
    const expected = fileEntries(sub)
      .filter((r) => r.entry.fileStatus === 'PendingUpload')
      .map((r) => text(r.entry.fileName))
      .concat(newTrailerFiles(sub));
    if (!sub.upload) return [];
    let inspection: ZipInspection;
    try {
      inspection = await inspectZip(this.deps.blob(sub.upload.blobName));
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 412) {
        return [{ code: 'InvalidArchive', details: 'The uploaded archive changed while it was being read.' }];
      }
      return [{ code: 'ServiceError', details: 'The uploaded archive could not be read. Try again later.' }];
    }
    this.zipChecks.set(sub.id, {
      at: new Date().toISOString(),
      result: inspection.kind,
      ...(inspection.kind === 'ok' ? { entries: inspection.entries.length, rangeReads: inspection.rangeReads } : {}),
    });
    if (inspection.kind === 'missing') {
      return expected.length
        ? [
            {
              code: 'MissingFiles',
              details: `No archive was uploaded to fileUploadUrl, but these files are PendingUpload: ${expected.join(', ')}`,
            },
          ]
        : [];
    }
    if (inspection.kind === 'invalid') {
      return [
        { code: 'InvalidArchive', details: `The uploaded file is not a readable zip archive: ${inspection.reason}` },
      ];
    }
    const present = new Set(inspection.entries.map(normalizeName));
    const missing = expected.filter((name) => !present.has(normalizeName(name)));
    return missing.length
      ? [{ code: 'MissingFiles', details: `These files were not found in the uploaded archive: ${missing.join(', ')}` }]
      : [];
  }

  private publish(sub: Submission): void {
    const product = this.deps.store.productOf(sub);
    if (!product) return;
    const previous = product.lastPublishedSubmissionId;
    settleFiles(sub, this.deps.store, this.packageFacts.get(sub.id));
    this.packageFacts.delete(sub.id);
    const rollout = isRecord(sub.data.packageDeliveryOptions)
      ? sub.data.packageDeliveryOptions.packageRollout
      : undefined;
    if (isRecord(rollout) && rollout.isPackageRollout === true) {
      rollout.packageRolloutStatus = 'PackageRolloutInProgress';
      rollout.fallbackSubmissionId = previous ?? '0';
    }
    if (product.kind === 'application') product.firstPublishedDate ??= new Date().toISOString();
    product.lastPublishedSubmissionId = sub.id;
    if (product.pendingSubmissionId === sub.id) product.pendingSubmissionId = undefined;
    this.enter(sub, 'Published');
  }
}

/** Zip entry names use '/', Store file names are often written with '\'. Case is kept: the match is exact. */
function normalizeName(name: string): string {
  return name.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function publishDate(sub: Submission): number {
  const date = Date.parse(text(sub.data.targetPublishDate));
  return Number.isNaN(date) ? 0 : date;
}

/** New trailers get their ids once processed (manage-app-submissions.md: "provided by Partner Center"). */
function assignTrailerIds(sub: Submission, store: Store): void {
  if (!Array.isArray(sub.data.trailers)) return;
  const next = (): string => {
    const id = store.ids.nextId();
    store.packageIds.add(id);
    return id;
  };
  for (const t of sub.data.trailers as unknown[]) {
    if (!isRecord(t) || (typeof t.id === 'string' && t.id !== '')) continue;
    t.id = next();
    t.videoFileId = next();
    if (isRecord(t.trailerAssets)) {
      for (const asset of Object.values(t.trailerAssets)) {
        if (!isRecord(asset) || !Array.isArray(asset.imageList)) continue;
        for (const img of asset.imageList as unknown[]) if (isRecord(img)) img.id ??= next();
      }
    }
  }
}

/** On publication: PendingUpload files become Uploaded, PendingDelete ones go, new packages get ids and details. */
function settleFiles(sub: Submission, store: Store, facts: Map<string, PackageFacts> | undefined): void {
  const field = packageField(sub.kind);
  const lists: unknown[][] = [];
  if (field && Array.isArray(sub.data[field])) lists.push(sub.data[field] as unknown[]);
  const listings = isRecord(sub.data.listings) ? sub.data.listings : {};
  for (const listing of Object.values(listings)) {
    if (!isRecord(listing)) continue;
    if (isRecord(listing.baseListing) && Array.isArray(listing.baseListing.images))
      lists.push(listing.baseListing.images);
    if (isRecord(listing.platformOverrides)) {
      for (const o of Object.values(listing.platformOverrides))
        if (isRecord(o) && Array.isArray(o.images)) lists.push(o.images);
    }
    if (isRecord(listing.icon) && listing.icon.fileStatus === 'PendingDelete') listing.icon = null;
  }
  for (const list of lists) {
    for (let i = list.length - 1; i >= 0; i--) {
      const entry = list[i];
      if (isRecord(entry) && entry.fileStatus === 'PendingDelete') list.splice(i, 1);
    }
  }
  for (const ref of fileEntries(sub)) {
    if (ref.entry.fileStatus !== 'PendingUpload') continue;
    ref.entry.fileStatus = 'Uploaded';
    if (typeof ref.entry.id !== 'string' && !ref.where.endsWith('.icon')) {
      ref.entry.id = store.ids.nextId();
      store.packageIds.add(ref.entry.id as string);
    }
    if (field && ref.where.startsWith(field)) {
      const read = facts?.get(text(ref.entry.fileName));
      if (read) {
        fillFromManifest(ref.entry, read);
        store.packageUnits.set(ref.entry.id as string, read.units);
      } else fillPackageDetails(ref.entry);
    }
  }
}

const STORE_ARCHITECTURE: Record<string, string> = {
  x64: 'X64',
  x86: 'X86',
  arm: 'Arm',
  arm64: 'Arm64',
  x86a64: 'X86a64',
  neutral: 'Neutral',
};

/** What the Store shows of a processed package: read from its manifest. */
function fillFromManifest(entry: Json, facts: PackageFacts): void {
  entry.version = facts.version;
  const arch = facts.units.map((u) => STORE_ARCHITECTURE[u.architecture] ?? u.architecture);
  entry.architecture = facts.kind === 'bundle' ? arch.join(',') : (arch[0] ?? 'Neutral');
  entry.languages = facts.languages;
  entry.capabilities = facts.capabilities;
  entry.targetDeviceFamilies = facts.targetDeviceFamilies;
}

const ARCHITECTURES: Record<string, string> = {
  x64: 'X64',
  x86: 'X86',
  arm: 'Arm',
  arm64: 'Arm64',
  neutral: 'Neutral',
};

/** A package processed without its manifest read (seeded, or not a package field): details from the file name `Name_1.2.3.0_x64.msix`. */
function fillPackageDetails(entry: Json): void {
  const name = text(entry.fileName);
  const version = /_(\d+\.\d+\.\d+\.\d+)_/.exec(name)?.[1];
  const arch = /_(x64|x86|arm64|arm|neutral)[._]/i.exec(name)?.[1];
  if (!entry.version && version) entry.version = version;
  if (!entry.architecture && arch) entry.architecture = ARCHITECTURES[arch.toLowerCase()];
  entry.languages ??= [];
  entry.capabilities ??= [];
  entry.targetDeviceFamilies ??= [];
}
