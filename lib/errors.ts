/**
 * Typed errors. Every error the product raises says whether trying again can help
 * (`retriable`) and carries a stable `code` that the orchestrator, the status document
 * and the CLI act on. Nothing here may hold a token, a secret or a SAS signature:
 * messages travel into orchestration history and reports.
 */

export interface ErrorFacts {
  /** Stable machine-readable code, e.g. `InvalidManifest`, `InvalidState`, `CommitFailed`. */
  code: string;
  retriable: boolean;
  /** HTTP status of the failed call, when there was one. */
  status?: number;
  /** `MS-CorrelationId` of the failed Store call: what Microsoft support asks for. */
  correlationId?: string;
  /** Milliseconds the service asked us to wait (429 `Retry-After`). */
  retryAfterMs?: number;
  /** Problems with the user's input, each naming the file and field. */
  problems?: InputProblem[];
  /** The Store's own error codes and details (statusDetails.errors, or the error envelope). */
  storeErrors?: Array<{ code: string; details: string }>;
}

export interface InputProblem {
  /** The file inside the zip (or the blob) the problem is in, e.g. `submission.json`. */
  file: string;
  /** A JSON pointer or dotted path to the field, when the problem is in one. */
  field?: string;
  message: string;
}

export abstract class SubmitterError extends Error {
  abstract readonly code: string;
  abstract readonly retriable: boolean;

  facts(): ErrorFacts {
    return { code: this.code, retriable: this.retriable };
  }
}

export class ConfigurationError extends SubmitterError {
  override readonly name = 'ConfigurationError';
  readonly code = 'Configuration';
  readonly retriable = false;
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

/**
 * Problems one error lists at most. A zip of 100,000 badly named entries must not turn into a
 * message of megabytes that travels through orchestration history, reports and logs.
 */
export const MAX_LISTED_PROBLEMS = 100;

/** The zip or its manifest cannot be submitted as it is; the user has to fix it. */
export class InputError extends SubmitterError {
  override readonly name = 'InputError';
  readonly retriable = false;
  readonly problems: InputProblem[];
  constructor(
    problems: InputProblem[],
    readonly code: string = 'InvalidInput',
  ) {
    const listed =
      problems.length > MAX_LISTED_PROBLEMS
        ? [
            ...problems.slice(0, MAX_LISTED_PROBLEMS),
            {
              file: problems[MAX_LISTED_PROBLEMS]!.file,
              message: `and ${problems.length - MAX_LISTED_PROBLEMS} more problem(s) not listed (at most ${MAX_LISTED_PROBLEMS} are); fix these first`,
            },
          ]
        : problems;
    super(InputError.describe(listed));
    this.problems = listed;
  }

  static describe(problems: InputProblem[]): string {
    return problems.map((p) => `${p.file}${p.field ? ` ${p.field}` : ''}: ${p.message}`).join('\n');
  }

  override facts(): ErrorFacts {
    return { ...super.facts(), problems: this.problems };
  }
}

/**
 * Runs `read`, a pure step over the user's input (parsing, validating, merging), so that
 * nothing it throws is ever retried: the same bytes fail the same way every time. An error that
 * is not already a typed one (a stack overflow, a bug meeting an input nobody thought of)
 * becomes an InputError naming `file`, so the run fails at once and says what it was reading.
 */
export function readingInput<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (isSubmitterError(e)) throw e;
    const err = e instanceof Error ? e : new Error(String(e));
    const what =
      err instanceof RangeError && /call stack/i.test(err.message)
        ? 'nests too deeply to be read'
        : `could not be read (${err.name}: ${err.message})`;
    throw new InputError(
      [
        {
          file,
          message: `${what}; nothing was sent to the Store. store-submitter should have refused this input with a clearer reason: please report it, with the file`,
        },
      ],
      'UnreadableInput',
    );
  }
}

/** The zip blob is gone, or was replaced while a run was reading it (its ETag moved). */
export class SourceBlobError extends SubmitterError {
  override readonly name = 'SourceBlobError';
  readonly retriable = false;
  constructor(
    message: string,
    readonly code: 'BlobNotFound' | 'BlobChanged' | 'BlobUnreadable',
  ) {
    super(message);
  }
}

/** A Store API call answered with an error, or could not be made. */
export class StoreRequestError extends SubmitterError {
  override readonly name = 'StoreRequestError';
  readonly retriable: boolean;
  readonly code: string;
  readonly status?: number;
  readonly correlationId?: string;
  readonly retryAfterMs?: number;
  readonly storeErrors?: Array<{ code: string; details: string }>;

  constructor(
    message: string,
    init: {
      code: string;
      status?: number;
      correlationId?: string;
      retryAfterMs?: number;
      retriable?: boolean;
      storeErrors?: Array<{ code: string; details: string }>;
    },
  ) {
    super(message);
    this.code = init.code;
    this.status = init.status;
    this.correlationId = init.correlationId;
    this.retryAfterMs = init.retryAfterMs;
    this.storeErrors = init.storeErrors;
    this.retriable = init.retriable ?? isRetriableStatus(init.status);
  }

  override facts(): ErrorFacts {
    return {
      ...super.facts(),
      status: this.status,
      correlationId: this.correlationId,
      retryAfterMs: this.retryAfterMs,
      storeErrors: this.storeErrors,
    };
  }
}

/** The Store took the submission but ended it in a failed state (CommitFailed, CertificationFailed, ...). */
export class StoreOutcomeError extends SubmitterError {
  override readonly name = 'StoreOutcomeError';
  readonly retriable = false;
  constructor(
    message: string,
    readonly code: string,
    readonly storeErrors: Array<{ code: string; details: string }> = [],
  ) {
    super(message);
  }

  override facts(): ErrorFacts {
    return { ...super.facts(), storeErrors: this.storeErrors };
  }
}

/** Copying the zip to the Store's upload URL failed. */
export class UploadError extends SubmitterError {
  override readonly name = 'UploadError';
  constructor(
    message: string,
    readonly code: string,
    readonly retriable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }

  override facts(): ErrorFacts {
    return { ...super.facts(), status: this.status };
  }
}

export function isSubmitterError(e: unknown): e is SubmitterError {
  return e instanceof SubmitterError;
}

export function isStoreRequestError(e: unknown): e is StoreRequestError {
  return e instanceof StoreRequestError;
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}

/** 408, 429 and 5xx are worth another try; other 4xx say the request itself is wrong. */
export function isRetriableStatus(status: number | undefined): boolean {
  if (status === undefined) return true; // no answer at all: network error or timeout
  return status === 408 || status === 429 || status >= 500;
}

// ---------------------------------------------------------------------------
// Crossing the activity boundary. The Durable host hands an orchestrator only the failed
// activity's message, so the facts ride in it and are read back (and stripped from what users
// see) by `parseActivityFailure`. The Functions host passes that message through its credential
// filter first (Sanitizer.cs: from `sig=`, `key=`, `code=`, `Token=`, `AccountKey=` ... up to the
// next quote, `<` or the end, all becomes "[Hidden Credential]"; host-fidelity risk 8). So the
// facts come first, before any text the filter could start cutting at, and travel as base64url:
// no `=`, no quote, nothing the filter matches or stops at. A cut in the message after them
// loses some of the message, never the code or whether a retry helps.

const MARKER = '[[submitter-error:';
const MARKER_END = ']]';
/** The form before the facts moved to the front: message, then this, then the JSON. Still read. */
const LEGACY_MARKER = '\n[[submitter-error]]';

/** Turns anything thrown inside an activity into an Error whose message carries its facts. */
export function toActivityError(e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err.message.includes(MARKER)) return err;
  const facts: ErrorFacts & { name: string } = isSubmitterError(err)
    ? { name: err.name, ...err.facts() }
    : { name: err.name || 'Error', code: 'Unexpected', retriable: true };
  const encoded = Buffer.from(JSON.stringify(facts), 'utf8').toString('base64url');
  const wrapped = new Error(`${MARKER}${encoded}${MARKER_END} ${err.message}`);
  wrapped.name = err.name;
  wrapped.stack = `${err.name}: ${wrapped.message}`;
  return wrapped;
}

export interface ActivityFailure extends ErrorFacts {
  name: string;
  /** The message as the activity wrote it, without the facts and the host's prefixes. */
  message: string;
}

/** Reads the facts back out of the error an orchestrator sees when an activity failed. */
export function parseActivityFailure(e: unknown): ActivityFailure {
  const raw = e instanceof Error ? e.message : String(e);
  const at = raw.indexOf(MARKER);
  if (at >= 0) {
    const end = raw.indexOf(MARKER_END, at + MARKER.length);
    const message = cleanFailureMessage(raw.slice(end >= 0 ? end + MARKER_END.length : raw.length));
    try {
      const json = Buffer.from(raw.slice(at + MARKER.length, end), 'base64url').toString('utf8');
      return { ...(JSON.parse(json) as ErrorFacts & { name: string }), message };
    } catch {
      return { name: 'Error', code: 'Unexpected', retriable: true, message };
    }
  }
  const legacy = raw.indexOf(LEGACY_MARKER);
  if (legacy < 0) return { name: 'Error', code: 'Unexpected', retriable: true, message: cleanFailureMessage(raw) };
  const message = cleanFailureMessage(raw.slice(0, legacy));
  const tail = raw.slice(legacy + LEGACY_MARKER.length);
  try {
    const facts = JSON.parse(tail.slice(0, findJsonEnd(tail))) as ErrorFacts & { name: string };
    return { ...facts, message };
  } catch {
    return { name: 'Error', code: 'Unexpected', retriable: true, message };
  }
}

/**
 * A failure's text as a user should read it. The hosts wrap what a function threw: an activity's
 * as `Activity function 'x' failed: <message> \n <serialized .NET exception>` (TaskActivityShim.cs
 * Reason and Details, joined by durable-functions with " \n "), a sub-orchestration's as
 * `Orchestrator function 'x' failed: <message>` with `Message: m, StackTrace: ...` details
 * (OutOfProcOrchestrationShim.cs:87), the FailureDetails form as `Error: <message>`. All of that
 * goes; what the function said stays.
 */
export function cleanFailureMessage(text: string): string {
  let out = text;
  // The Details the library appended after its separator: a .NET exception, never the app's words.
  const details = out.indexOf(' \n ');
  if (details >= 0) out = out.slice(0, details);
  for (;;) {
    const before = out;
    out = out
      .trim()
      .replace(/^(?:Activity|Orchestrator) function '[^']*' failed:\s*/, '')
      .replace(/^Message:\s*/, '')
      .replace(/^[A-Za-z.]*(?:Error|Exception):\s+/, '');
    if (out === before) break;
  }
  // A .NET stack trace or a `StackTrace:` tail is the host's, not the run's.
  out = out.replace(/,?\s*StackTrace:[\s\S]*$/, '').replace(/\n\s+at [\s\S]*$/, '');
  return out.trim();
}

function findJsonEnd(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return text.length;
}
