/**
 * How runs look in a terminal: one line per change of phase or Store status while a run is
 * followed, the whole status document for `status`, and the exit code a run's end maps to.
 */
import type { StatusDocument } from '../lib/statusDocument';
import type { Manifest, Target } from '../lib/manifest';
import { previewLines, type SubmissionPreview } from '../lib/preview';
import { formatBytes } from '../lib/zip/format';
import { EXIT, type ExitCode } from './errors';

/** Pipeline failures that mean the zip was refused: the same exit code as a local refusal. */
const INPUT_FAILURES = new Set(['InvalidManifest', 'InvalidZip', 'InvalidOptions', 'InvalidInput']);

export function isFinished(doc: StatusDocument): boolean {
  return (
    doc.status === 'Succeeded' || doc.status === 'Failed' || doc.status === 'Canceled' || doc.status === 'Rejected'
  );
}

export function exitCodeForRun(doc: StatusDocument): ExitCode {
  if (doc.status === 'Succeeded') return EXIT.ok;
  const facts = doc.failure?.facts;
  if (doc.status === 'Failed' && (facts?.problems?.length || INPUT_FAILURES.has(facts?.code ?? '')))
    return EXIT.rejected;
  return EXIT.runFailed;
}

export function clock(at: Date = new Date()): string {
  return at.toTimeString().slice(0, 8);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function targetLabel(target: Target | StatusDocument['product'] | undefined): string {
  if (!target) return 'unknown product';
  const t = target as Record<string, unknown>;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const flight = t.flight as { friendlyName?: string } | undefined;
  const addon = t.addon as { productId?: string } | undefined;
  switch (t.kind) {
    case 'app':
      return `app ${text(t.applicationId) ?? '?'}`;
    case 'flight':
      return `flight ${text(t.flightId) ?? `"${text(flight?.friendlyName) ?? '?'}"`} of app ${text(t.applicationId) ?? '?'}`;
    case 'addon':
      return `add-on ${text(t.inAppProductId) ?? `"${text(addon?.productId) ?? '?'}"`}`;
    case 'win32':
      return `MSI/EXE app ${text(t.productId) ?? '?'}`;
    default:
      return 'unknown product';
  }
}

/** What identifies a state worth a new line: the run's status, its phase and the Store's status. */
export function progressKey(doc: StatusDocument | undefined): string {
  return doc ? `${doc.status}|${doc.phase}|${doc.storeStatus ?? ''}` : 'waiting';
}

export function progressLine(doc: StatusDocument | undefined, at: Date = new Date()): string {
  if (!doc) return `${clock(at)}  Waiting    the run has not started yet`;
  const store = doc.storeStatus ? `  Store: ${doc.storeStatus}` : '';
  return `${clock(at)}  ${doc.status.padEnd(9)}  ${doc.phase.padEnd(25)}${store}`.trimEnd();
}

/** What to do while a run waits at the approval gate. */
export function approvalHint(instanceId: string, approval: NonNullable<StatusDocument['approval']>): string {
  return [
    `Waiting for approval until ${approval.deadline}${approval.partnerCenterUrl ? ` (the submission: ${approval.partnerCenterUrl})` : ''}.`,
    `  approve: store-submitter approve ${instanceId} [--comment "..."]`,
    `  reject:  store-submitter reject ${instanceId} --reason "..."`,
  ].join('\n');
}

/** The closing lines of a followed run. */
export function outcomeLines(doc: StatusDocument): string[] {
  const product = targetLabel(doc.product);
  const submission = doc.submissionId ? `submission ${doc.submissionId}` : 'no submission';
  if (doc.status === 'Succeeded') {
    if (doc.outcome === 'DryRunSucceeded')
      return [`Succeeded: ${product}, dry run: the Store took the submission, which was then deleted.`];
    if (doc.outcome === 'Superseded') {
      // A superseded run stops before it reads the product: the zip is what it names.
      const what = doc.product ? product : doc.blob.name;
      return [`Superseded: ${what}, nothing submitted.`, `  ${doc.supersededBy?.message ?? 'A newer release won.'}`];
    }
    return [`Succeeded: ${product}, ${submission}${doc.storeStatus ? ` (Store: ${doc.storeStatus})` : ''}.`];
  }
  const decision = doc.approval?.decision;
  if (doc.status === 'Rejected')
    return [
      `Rejected: ${product}, ${submission} deleted, nothing committed.`,
      ...(decision
        ? [`  rejected by ${decision.by} at ${decision.at}${decision.comment ? `: ${decision.comment}` : ''}`]
        : []),
    ];
  const lines = [`${doc.status}: ${product}, ${submission}${doc.storeStatus ? ` (Store: ${doc.storeStatus})` : ''}.`];
  lines.push(...failureLines(doc));
  return lines;
}

function failureLines(doc: StatusDocument): string[] {
  const lines: string[] = [];
  if (doc.failure) {
    lines.push(`  at ${doc.failure.step}: ${doc.failure.message}`);
    for (const p of doc.failure.facts.problems ?? [])
      lines.push(`    ${p.file}${p.field ? ` ${p.field}` : ''}: ${p.message}`);
    if (doc.failure.advice) lines.push(`  what to do: ${doc.failure.advice}`);
    if (doc.failure.facts.correlationId) lines.push(`  MS-CorrelationId: ${doc.failure.facts.correlationId}`);
  }
  for (const e of doc.storeErrors) lines.push(`  Store error ${e.code}: ${e.details}`);
  for (const r of doc.certificationReports)
    lines.push(`  certification report${r.date ? ` (${r.date})` : ''}: ${r.reportUrl}`);
  return lines;
}

/** The status document for people. */
export function renderDocument(doc: StatusDocument, statusUrl?: string): string {
  const rows: Array<[string, string]> = [
    ['Run', doc.instanceId],
    ['Zip', `${doc.blob.container}/${doc.blob.name}${doc.blob.etag ? ` (ETag ${doc.blob.etag})` : ''}`],
    [
      'Status',
      `${doc.status}, phase ${doc.phase}${doc.outcome ? `, outcome ${doc.outcome}` : ''}${doc.dryRun ? ' (dry run)' : ''}`,
    ],
  ];
  if (doc.product) rows.push(['Product', targetLabel(doc.product)]);
  if (doc.submissionId || doc.storeStatus)
    rows.push([
      'Submission',
      `${doc.submissionId ?? '(none yet)'}${doc.storeStatus ? `, Store status ${doc.storeStatus}` : ''}`,
    ]);
  if (doc.approval) {
    const d = doc.approval.decision;
    rows.push([
      'Approval',
      d
        ? `${doc.approval.state} by ${d.by} at ${d.at}${d.comment ? `: ${d.comment}` : ''}`
        : `${doc.approval.state}, until ${doc.approval.deadline}${doc.approval.partnerCenterUrl ? `; ${doc.approval.partnerCenterUrl}` : ''}`,
    ]);
  }
  if (doc.ramp) rows.push(['Ramp', `${doc.ramp.state}${doc.ramp.message ? `: ${doc.ramp.message}` : ''}`]);
  if (doc.upload)
    rows.push([
      'Upload',
      `${formatBytes(doc.upload.bytes)} in ${doc.upload.blocks} block(s), ${doc.upload.method}, ${formatDuration(doc.upload.durationMs)}`,
    ]);
  if (doc.polls !== undefined)
    rows.push(['Polls', `${doc.polls}${doc.nextPollAt ? `, next at ${doc.nextPollAt}` : ''}`]);
  if (doc.createdTime) rows.push(['Created', doc.createdTime]);
  if (doc.lastUpdatedTime) rows.push(['Updated', doc.lastUpdatedTime]);
  if (doc.reportBlob) rows.push(['Report', doc.reportBlob]);
  if (statusUrl) rows.push(['Status URL', statusUrl]);
  const lines = rows.map(([k, v]) => `${k.padEnd(11)} ${v}`);
  if (doc.ramp) lines.splice(lines.findIndex((l) => l.startsWith('Ramp ')) + 1, 0, ...rampLines(doc.ramp));
  if (doc.timeline.length) {
    lines.push('Timeline');
    const width = Math.max(...doc.timeline.map((s) => s.step.length));
    for (const s of doc.timeline) {
      const took = s.endedAt ? formatDuration(Date.parse(s.endedAt) - Date.parse(s.startedAt)) : 'running';
      const extra = [
        s.attempts && s.attempts > 1 ? `${s.attempts} attempts` : '',
        s.detail ?? '',
        s.correlationIds?.length ? `MS-CorrelationId ${s.correlationIds.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      lines.push(
        `  ${s.startedAt.slice(11, 19)}  ${s.step.padEnd(width)}  ${s.result.padEnd(8)} ${took.padStart(9)}${extra ? `  ${extra}` : ''}`,
      );
    }
  }
  if (doc.preview) lines.push(...previewBlock(doc.preview));
  for (const w of doc.storeWarnings) lines.push(`Store warning ${w.code}: ${w.details}`);
  const failure = failureLines(doc);
  if (failure.length) lines.push('Failure', ...failure);
  return lines.join('\n');
}

/** One line per step of a ramp: what it sets, and when it was applied or is due. */
function rampLines(ramp: NonNullable<StatusDocument['ramp']>): string[] {
  return ramp.steps.map((step) => {
    const what = step.finalize === true ? 'finalize' : `${step.percentage ?? '?'}%`;
    const when = step.appliedAt
      ? `applied ${step.appliedAt}${step.correlationId ? ` (MS-CorrelationId ${step.correlationId})` : ''}`
      : step.dueAt
        ? `due ${step.dueAt}`
        : 'not applied';
    return `  ${`${what}${step.after ? ` after ${step.after}` : ''}`.padEnd(18)} ${when}`;
  });
}

/** The preview as `status`, `submit` and `validate --against-store` print it. */
export function previewBlock(preview: SubmissionPreview): string[] {
  return ['Preview', ...previewLines(preview).map((l) => `  ${l}`)];
}

/** One line per file kind the submission uploads, for `validate` and `submit`. */
export function uploadsSummary(manifest: Manifest, uploads: string[], packages: string[]): string {
  const images = uploads.length - packages.length;
  const parts = [`${packages.length} package${packages.length === 1 ? '' : 's'}`];
  if (images) parts.push(`${images} other file${images === 1 ? '' : 's'} (images, icons, trailers)`);
  return `${targetLabel(manifest.target)}; uploads ${parts.join(', ')}`;
}
