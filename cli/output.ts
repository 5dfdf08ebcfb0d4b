/**
 * Where the CLI writes. Human output goes to stdout and errors to stderr; with --json, stdout
 * carries exactly one JSON document (the result or the error) and the progress lines move to
 * stderr, so `store-submitter submit --json ... > result.json` stays parseable.
 */
import { isInputError } from '../lib/errors';
import { describeError, errorJson, exitCodeFor, UsageError, type ExitCode } from './errors';
import { LiveView } from './live';

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

export class Output {
  readonly live: LiveView;
  private readonly secrets: string[] = [];

  constructor(
    readonly json: boolean,
    private readonly streams: Streams = { stdout: process.stdout, stderr: process.stderr },
  ) {
    const interactive = !json && streams.stdout.isTTY === true;
    this.live = new LiveView(json ? streams.stderr : streams.stdout, interactive);
  }

  /** Values never to print (keys, connection strings), masked in every error shown. */
  secret(value: string | undefined): void {
    if (value) this.secrets.push(value);
  }

  /** A progress or result line for people (stderr under --json). */
  info(text: string): void {
    this.live.line(text);
  }

  /** The result: JSON under --json, else the given lines. */
  result(json: unknown, human: () => string | string[]): void {
    this.live.stopStatus();
    if (this.json) this.streams.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    else {
      const text = human();
      this.streams.stdout.write(`${Array.isArray(text) ? text.join('\n') : text}\n`);
    }
  }

  /** Shows an error and returns its exit code. */
  fail(e: unknown, heading?: string): ExitCode {
    this.live.stopStatus();
    if (this.json) {
      this.streams.stdout.write(`${JSON.stringify({ error: errorJson(e, this.secrets) }, null, 2)}\n`);
    } else if (e instanceof UsageError) {
      this.streams.stderr.write(`error: ${describeError(e.problems[0]?.message ?? e.message, this.secrets)}\n`);
    } else if (isInputError(e)) {
      const n = e.problems.length;
      const lines = e.problems.map(
        (p) => `  ${describeError(`${p.file}${p.field ? ` ${p.field}` : ''}: ${p.message}`, this.secrets)}`,
      );
      this.streams.stderr.write(
        `error: ${heading ?? 'the input was refused'} (${n} problem${n === 1 ? '' : 's'}):\n${lines.join('\n')}\n`,
      );
    } else {
      this.streams.stderr.write(`error: ${describeError(e, this.secrets)}\n`);
    }
    return exitCodeFor(e);
  }
}
