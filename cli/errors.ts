/**
 * How the CLI ends. CI scripts branch on the exit code, so each way of ending has its own
 * and an error says which it is by its class: the product's InputError (the user's input
 * is wrong) or the CLI's ServiceError (storage or the Functions app cannot be used).
 */
import { InputError, SubmitterError, isInputError } from '../lib/errors';
import { redact } from '../lib/redact';

export const EXIT = {
  /** The run succeeded (or: the zip is valid, the zip was packed, the run was started with --no-wait). */
  ok: 0,
  /** The run failed in the Store or in the pipeline, or was canceled. */
  runFailed: 1,
  /** The input was refused before anything ran: the folder, the zip, the manifest or the arguments. */
  rejected: 2,
  /** Storage or the Functions app could not be reached or refused access. */
  unreachable: 3,
  /** --timeout passed before the run ended. */
  timedOut: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An argument or option that cannot work, found before anything is sent anywhere. */
export class UsageError extends InputError {
  constructor(message: string, field?: string) {
    super([{ file: 'arguments', field, message }], 'InvalidArguments');
  }
}

export type ServiceErrorCode =
  'StorageUnreachable' | 'FunctionsUnreachable' | 'AccessDenied' | 'ServiceError' | 'UnexpectedAnswer';

/** Storage or the Functions app could not be used; `retriable` says whether waiting may help. */
export class ServiceError extends SubmitterError {
  override readonly name = 'ServiceError';
  constructor(
    message: string,
    readonly code: ServiceErrorCode,
    readonly retriable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }

  override facts() {
    return { ...super.facts(), status: this.status };
  }
}

/** The Functions app understood the request and refused it, in its own words (exit 1). */
export class RefusedError extends SubmitterError {
  override readonly name = 'RefusedError';
  readonly retriable = false;
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    /** The API's error body (its code, message and facts such as a correlation id). */
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function exitCodeFor(e: unknown): ExitCode {
  if (isInputError(e)) return EXIT.rejected;
  if (e instanceof ServiceError) return EXIT.unreachable;
  return EXIT.runFailed;
}

/** The message to show for any error, secrets removed; `secrets` are values the CLI was given (keys). */
export function describeError(e: unknown, secrets: string[] = []): string {
  const text = e instanceof Error ? e.message : String(e);
  return redact(text, secrets);
}

/** The machine-readable form of an error for --json. */
export function errorJson(e: unknown, secrets: string[] = []): Record<string, unknown> {
  const base = { message: describeError(e, secrets) };
  if (isInputError(e))
    return { code: e.code, ...base, problems: e.problems.map((p) => ({ ...p, message: redact(p.message, secrets) })) };
  if (e instanceof RefusedError) return { ...e.body, code: e.code, ...base };
  if (e instanceof SubmitterError) return { code: e.code, ...base };
  return { code: 'Unexpected', ...base };
}
