import { closeSync, openSync, writeSync } from 'node:fs';

/** One log line of the sandbox host: printed as JSON on stdout and appended to the log file. */
export interface HostLogLine {
  time: string;
  level: string;
  /** `Host`, `Host.Triggers.Blob`, `Host.Triggers.DurableTask`, `Worker`, or the function's name for its own logs. */
  category: string;
  invocationId?: string;
  message: string;
  [key: string]: unknown;
}

// The host's own lines (request URLs with keys, connection strings) are scrubbed. The app's
// lines are passed on exactly as written, as the real host ships them to Application
// Insights: scrubbing them here would hide a leak from the tests that search logs for one.
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/([?&;]sig=)[^&\s"';]+/gi, '$1REDACTED'],
  [/(AccountKey=)[^;\s"']+/gi, '$1REDACTED'],
  [/(SharedAccessSignature=)[^;\s"']+/gi, '$1REDACTED'],
  [/(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/g, '$1REDACTED'],
  [/([?&]code=)[^&\s"']+/gi, '$1REDACTED'],
  [/("?(?:client_secret|clientSecret|password|accessToken|access_token)"?\s*[:=]\s*"?)[^"&\s,}]+/gi, '$1REDACTED'],
];

export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

export class Logger {
  private fd: number | undefined;
  private sinkBroken = false;

  constructor(
    private readonly sink: (line: string) => void,
    logFile?: string,
  ) {
    // Appended synchronously: a host killed with SIGKILL must not lose the lines before it.
    if (logFile) this.fd = openSync(logFile, 'a');
  }

  /**
   * The sink (stdout, read by the parent) is gone: stop writing to it. Writing on would only
   * raise the same EPIPE again, and each error logged is another write: a loop that once filled
   * the log file at megabytes a second after the sandbox was killed.
   */
  sinkClosed(): void {
    this.sinkBroken = true;
  }

  log(level: string, category: string, message: string, extra: Record<string, unknown> = {}): void {
    const own = category.startsWith('Host') || category === 'Worker';
    const line: HostLogLine = {
      time: new Date().toISOString(),
      level,
      category,
      ...extra,
      message: own ? redact(message) : message,
    };
    if (extra.invocationId === undefined) delete line.invocationId;
    const text = JSON.stringify(line) + '\n';
    if (!this.sinkBroken) {
      try {
        this.sink(text);
      } catch {
        this.sinkBroken = true;
      }
    }
    if (this.fd !== undefined) {
      try {
        // The ready line's keys are for the parent only, never for a file.
        writeSync(this.fd, 'keys' in line ? JSON.stringify({ ...line, keys: undefined }) + '\n' : text);
      } catch {
        // A log file that cannot be written (disk full, removed volume) stops being written, once.
        this.close();
      }
    }
  }

  info(category: string, message: string, extra?: Record<string, unknown>): void {
    this.log('information', category, message, extra);
  }

  warn(category: string, message: string, extra?: Record<string, unknown>): void {
    this.log('warning', category, message, extra);
  }

  error(category: string, message: string, extra?: Record<string, unknown>): void {
    this.log('error', category, message, extra);
  }

  close(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already unusable
      }
    }
  }
}

/** Reads one stdout line of the host; anything that is not one of its JSON lines is kept as plain text. */
export function parseLogLine(text: string): HostLogLine {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as HostLogLine).message === 'string')
      return parsed as HostLogLine;
  } catch {
    // not JSON: fall through
  }
  return { time: new Date().toISOString(), level: 'information', category: 'stdout', message: text };
}
