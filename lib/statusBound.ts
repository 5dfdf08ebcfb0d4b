/**
 * Keeps a run's custom status small whatever the input. The Durable extension refuses a custom
 * status whose JSON is over 16 KB in UTF-16 and fails the instance on the spot, before anything
 * the episode scheduled runs: no report, and a Store submission left uncommitted
 * (DurableOrchestrationContext.cs:221-229 → MessagePayloadDataConverter.Serialize(value, 16):
 * `(int)(Encoding.Unicode.GetByteCount(json) / 1024.0) > 16` throws "The UTF-16 size of the
 * JSON-serialized payload must not exceed 16 KB"). So the status shows bounded lists and
 * shortened text, and the report blob, written from the whole state, has everything.
 *
 * Only descriptive fields are bounded (messages, problems, Store issues, timeline details, id
 * lists). What a cleanup reads back from the status to undo a run (product, submission id, the
 * MSI/EXE draft changes) is kept whole.
 */
import type { ErrorFacts, InputProblem } from './errors';
import type { RunFailure, RunState, StepRecord } from './run';
import type { StatusDetails, StoreIssue } from './store/types';

/** The extension's limit, in KB of UTF-16: a status of 17 KB (17,408 bytes) or more fails the instance. */
export const CUSTOM_STATUS_LIMIT_KB = 16;

/** What the app allows itself: well under the limit, so no field the bounds miss can push it over. */
export const CUSTOM_STATUS_BUDGET_BYTES = 12 * 1024;

/** The size the extension measures: the JSON's UTF-16 bytes (JS strings count UTF-16 code units). */
export function utf16Bytes(value: unknown): number {
  return (JSON.stringify(value ?? null) ?? 'null').length * 2;
}

/** What the extension computes and compares with 16 (it truncates, so 16.99 KB passes). */
export function utf16KB(value: unknown): number {
  return Math.floor(utf16Bytes(value) / 1024);
}

interface Limits {
  /** Characters of a failure message or advice. */
  message: number;
  /** Characters of a problem, a Store issue's details, a timeline entry's detail. */
  text: number;
  /** Entries of a list (problems, Store issues, certification reports, run ids). */
  items: number;
  /** Correlation ids one timeline entry keeps (the newest). */
  correlationIds: number;
  /** Timeline entries (the first, which says how the run began, and the newest). */
  timeline: number;
}

/** Tighter each time, until the status fits the budget. */
const LEVELS: Limits[] = [
  { message: 1500, text: 500, items: 10, correlationIds: 10, timeline: 40 },
  { message: 600, text: 240, items: 5, correlationIds: 4, timeline: 15 },
  { message: 300, text: 160, items: 3, correlationIds: 2, timeline: 6 },
];

const IN_REPORT = 'the report has all of it';

/**
 * `text` cut to `max` characters in the middle, saying how much was left out: a message's start
 * says what failed, its end often what happened next ("next attempt in 30 s; interrupted: ...").
 */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = ` … (${text.length - max} characters left out; ${IN_REPORT}) … `;
  const room = Math.max(0, max - note.length);
  const tail = Math.floor(room / 3);
  return `${text.slice(0, room - tail)}${note}${tail > 0 ? text.slice(-tail) : ''}`;
}

function firstOf<T>(list: T[] | undefined, max: number, more: (left: number) => T): T[] | undefined {
  if (!list || list.length <= max) return list;
  return [...list.slice(0, max), more(list.length - max)];
}

function lastOf<T>(list: T[] | undefined, max: number): T[] | undefined {
  return list && list.length > max ? list.slice(-max) : list;
}

function boundIssues(issues: StoreIssue[] | undefined, l: Limits): StoreIssue[] | undefined {
  return firstOf(
    issues?.map((i) => ({ ...i, details: shorten(String(i.details ?? ''), l.text) })),
    l.items,
    (left) => ({ code: 'More', details: `and ${left} more; ${IN_REPORT}` }),
  );
}

function boundDetails(details: StatusDetails | undefined, l: Limits): StatusDetails | undefined {
  if (!details) return details;
  return {
    ...details,
    errors: boundIssues(details.errors, l) ?? [],
    warnings: boundIssues(details.warnings, l) ?? [],
    // The newest reports matter most.
    certificationReports: lastOf(details.certificationReports, l.items) ?? [],
  };
}

function boundProblems(problems: InputProblem[] | undefined, l: Limits): InputProblem[] | undefined {
  return firstOf(
    problems?.map((p) => ({ ...p, message: shorten(p.message, l.text) })),
    l.items,
    (left) => ({ file: problems![l.items]!.file, message: `and ${left} more problem(s); ${IN_REPORT}` }),
  );
}

function boundFacts(facts: ErrorFacts, l: Limits): ErrorFacts {
  const out: ErrorFacts = { ...facts };
  if (facts.problems) out.problems = boundProblems(facts.problems, l);
  if (facts.storeErrors) out.storeErrors = boundIssues(facts.storeErrors, l);
  return out;
}

export function boundFailure(failure: RunFailure, l: Limits = LEVELS[0]!): RunFailure {
  return {
    ...failure,
    message: shorten(failure.message, l.message),
    ...(failure.advice !== undefined ? { advice: shorten(failure.advice, l.message) } : {}),
    facts: boundFacts(failure.facts, l),
  };
}

export function boundStep(step: StepRecord, l: Limits = LEVELS[0]!): StepRecord {
  const out: StepRecord = { ...step };
  if (step.detail !== undefined) out.detail = shorten(step.detail, l.text);
  if (step.correlationIds) out.correlationIds = lastOf(step.correlationIds, l.correlationIds);
  return out;
}

function boundTimeline(timeline: StepRecord[], l: Limits): StepRecord[] {
  const kept = timeline.length > l.timeline ? [timeline[0]!, ...timeline.slice(-(l.timeline - 1))] : timeline;
  return kept.map((s) => boundStep(s, l));
}

function atLevel(state: RunState, l: Limits): RunState {
  const out: RunState = { ...state, timeline: boundTimeline(state.timeline, l) };
  if (state.failure) out.failure = boundFailure(state.failure, l);
  if (state.statusDetails) out.statusDetails = boundDetails(state.statusDetails, l);
  if (state.waitedFor) out.waitedFor = lastOf(state.waitedFor, l.items);
  if (state.waitedForSubmissions) out.waitedForSubmissions = lastOf(state.waitedForSubmissions, l.items);
  if (state.canceled) out.canceled = { ...state.canceled, message: shorten(state.canceled.message, l.message) };
  if (state.supersededBy)
    out.supersededBy = { ...state.supersededBy, message: shorten(state.supersededBy.message, l.message) };
  return out;
}

/**
 * The run's state as its custom status shows it: the same shape, bounded, under the budget.
 * The whole state stays with the orchestration (and goes to the report).
 */
export function boundedRunState(state: RunState): RunState {
  let out = state;
  for (const limits of LEVELS) {
    out = atLevel(state, limits);
    if (utf16Bytes(out) <= CUSTOM_STATUS_BUDGET_BYTES) return out;
  }
  // Still too big: something unbounded grew (a huge preview, a long win32 plan). The preview's
  // full form is in the report; the status says where to look instead of failing the run.
  const { preview: _preview, ...rest } = out;
  return { ...rest, ...(state.preview ? { previewBlob: state.previewBlob } : {}) };
}

/** A follower's custom status (followSubmission, followWin32Submission), bounded the same way. */
export function boundedFollowerStatus<T extends { statusDetails?: StatusDetails; lastStep?: StepRecord }>(view: T): T {
  let out = view;
  for (const l of LEVELS) {
    out = {
      ...view,
      ...(view.statusDetails ? { statusDetails: boundDetails(view.statusDetails, l) } : {}),
      ...(view.lastStep ? { lastStep: boundStep(view.lastStep, l) } : {}),
    };
    if (utf16Bytes(out) <= CUSTOM_STATUS_BUDGET_BYTES) break;
  }
  return out;
}
