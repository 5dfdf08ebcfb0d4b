import { isRecord } from './http';
import { STATUSES, type Submission, type SubmissionStatus } from './state';

export type ServerName = 'api' | 'win32' | 'token' | 'upload';
/** How many times a fault fires; 'always' keeps it until it is deleted. Default 1. */
export type Times = number | 'always';

/**
 * A fault on the HTTP level. `match.path` is a glob (`*` = one path segment, `**` = anything) or a
 * regular expression written `/…/flags`, tested case-insensitively against the path without its
 * leading slash and without the query: below `/v1.0/my/` for the API
 * (`applications/9NBLGGH4R315/submissions`), the whole path for the MSI/EXE API
 * (`submission/v1/product/<guid>/packages`), the token host
 * (`<tenant>/oauth2/v2.0/token`) and the upload proxy (`storeingest/ingestion/<guid>`).
 * Exactly one action: `status` (+ `body`, `headers`), `hang` (never answer) or `drop` (destroy the
 * socket). With `after: true` the real operation runs first and its answer is replaced by the action.
 */
export interface HttpFaultSpec {
  kind?: 'http';
  match: { method?: string; path?: string; server?: ServerName };
  times?: Times;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  hang?: boolean;
  drop?: boolean;
  after?: boolean;
}

/** `productId`: an app id, flight id or add-on id; absent = any product. */
export interface CommitFailedFaultSpec {
  kind: 'commitFailed';
  productId?: string;
  /** statusDetails.errors codes; default ['ServiceError']. */
  codes?: string[];
  details?: string;
  times?: Times;
}
export interface CommitFallbackFaultSpec {
  kind: 'commitFallback';
  productId?: string;
  times?: Times;
}
export interface CertificationFailedFaultSpec {
  kind: 'certificationFailed';
  productId?: string;
  /** Default ['PackageValidationFailed']. */
  codes?: string[];
  details?: string;
  reportUrl?: string;
  times?: Times;
}
/**
 * The next submission of the product to reach that stage ends there failed, with these codes:
 * PreProcessingFailed (default PackageValidationFailed), ReleaseFailed and PublishFailed (default
 * ServiceError), statuses the Store documents but that no rule here produces on its own.
 */
export interface StageFailedFaultSpec {
  kind: 'preProcessingFailed' | 'releaseFailed' | 'publishFailed';
  productId?: string;
  codes?: string[];
  details?: string;
  times?: Times;
}
/** Holds matching submissions in `status` until the fault is deleted; then they move on. */
export interface StuckFaultSpec {
  kind: 'stuck';
  status: SubmissionStatus;
  submissionId?: string;
  productId?: string;
}

export type FaultSpec =
  | HttpFaultSpec
  | CommitFailedFaultSpec
  | CommitFallbackFaultSpec
  | CertificationFailedFaultSpec
  | StageFailedFaultSpec
  | StuckFaultSpec;
export type Fault = FaultSpec & { id: string; remaining: Times; fired: number };
export type HttpFault = HttpFaultSpec & { id: string; remaining: Times; fired: number };

type SubmissionFaultKind =
  'commitFailed' | 'commitFallback' | 'certificationFailed' | 'preProcessingFailed' | 'releaseFailed' | 'publishFailed';
type SubmissionFaultOf<K extends SubmissionFaultKind> = (K extends StageFailedFaultSpec['kind']
  ? StageFailedFaultSpec
  : Extract<FaultSpec, { kind: K }>) & {
  id: string;
  remaining: Times;
  fired: number;
};

export class Faults {
  private faults: Fault[] = [];
  private sequence = 0;
  private readonly matchers = new Map<string, RegExp>();

  constructor(private readonly onRemoved: () => void) {}

  add(spec: unknown): Fault {
    const checked = validate(spec);
    const fault = {
      ...checked,
      id: `fault-${++this.sequence}`,
      remaining: checked.kind === 'stuck' ? 'always' : (checked.times ?? 1),
      fired: 0,
    };
    if (isHttp(fault) && fault.match.path) this.matchers.set(fault.id, pathMatcher(fault.match.path));
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    const had = this.faults.length > 0;
    this.faults = [];
    this.matchers.clear();
    if (had) this.onRemoved();
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    this.matchers.delete(id);
    if (this.faults.length === before) return false;
    this.onRemoved();
    return true;
  }

  /** The first HTTP fault matching the request, consumed by one. */
  takeHttp(server: ServerName, method: string, path: string): HttpFault | undefined {
    const fault = this.faults.find((f): f is HttpFault => {
      if (!isHttp(f)) return false;
      if (f.match.server && f.match.server !== server) return false;
      if (f.match.method && f.match.method.toUpperCase() !== method.toUpperCase()) return false;
      const matcher = this.matchers.get(f.id);
      return !matcher || matcher.test(path);
    });
    if (fault) this.consume(fault);
    return fault;
  }

  /** The first submission-level fault of `kind` that applies to `sub`, consumed by one. */
  takeFor<K extends SubmissionFaultKind>(kind: K, sub: Submission): SubmissionFaultOf<K> | undefined {
    const fault = this.faults.find(
      (f) => f.kind === kind && appliesTo((f as { productId?: string }).productId, undefined, sub),
    );
    if (fault) this.consume(fault);
    return fault as SubmissionFaultOf<K> | undefined;
  }

  isStuck(sub: Submission, status: SubmissionStatus): boolean {
    return this.faults.some(
      (f) => f.kind === 'stuck' && f.status === status && appliesTo(f.productId, f.submissionId, sub),
    );
  }

  private consume(fault: Fault): void {
    fault.fired++;
    if (fault.remaining === 'always') return;
    fault.remaining--;
    if (fault.remaining <= 0) {
      this.faults = this.faults.filter((f) => f !== fault);
      this.matchers.delete(fault.id);
    }
  }
}

function isHttp(f: Fault | FaultSpec): f is HttpFault {
  return f.kind === undefined || f.kind === 'http';
}

function appliesTo(productId: string | undefined, submissionId: string | undefined, sub: Submission): boolean {
  if (submissionId !== undefined && submissionId !== sub.id) return false;
  return productId === undefined || productId.toLowerCase() === sub.productId.toLowerCase();
}

export function pathMatcher(pattern: string): RegExp {
  const regex = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  if (regex?.[1] !== undefined) return new RegExp(regex[1], regex[2]?.includes('i') ? regex[2] : `${regex[2] ?? ''}i`);
  const glob = pattern.replace(/^\/+/, '');
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}/?$`, 'i');
}

function validate(spec: unknown): FaultSpec {
  if (!isRecord(spec)) throw new TypeError('a fault must be an object');
  const times = spec.times;
  if (times !== undefined && times !== 'always' && !(Number.isInteger(times) && (times as number) > 0)) {
    throw new TypeError("times must be a positive integer or 'always'");
  }
  const optionalString = (key: string): void => {
    if (spec[key] !== undefined && typeof spec[key] !== 'string') throw new TypeError(`${key} must be a string`);
  };
  const codes = (): void => {
    if (spec.codes !== undefined && !(Array.isArray(spec.codes) && spec.codes.every((c) => typeof c === 'string'))) {
      throw new TypeError('codes must be an array of strings');
    }
  };
  switch (spec.kind) {
    case undefined:
    case 'http': {
      if (!isRecord(spec.match)) throw new TypeError('an HTTP fault needs match: {method?, path?, server?}');
      const { method, path, server } = spec.match;
      if (method !== undefined && typeof method !== 'string') throw new TypeError('match.method must be a string');
      if (path !== undefined && typeof path !== 'string') throw new TypeError('match.path must be a string');
      if (path !== undefined) pathMatcher(path);
      if (server !== undefined && !['api', 'win32', 'token', 'upload'].includes(server as string))
        throw new TypeError("match.server must be 'api', 'win32', 'token' or 'upload'");
      const actions = [spec.status !== undefined, spec.hang === true, spec.drop === true].filter(Boolean).length;
      if (actions !== 1) throw new TypeError('an HTTP fault needs exactly one of status, hang: true, drop: true');
      if (
        spec.status !== undefined &&
        !(Number.isInteger(spec.status) && (spec.status as number) >= 100 && (spec.status as number) <= 599)
      ) {
        throw new TypeError('status must be an HTTP status code');
      }
      if (
        spec.headers !== undefined &&
        !(isRecord(spec.headers) && Object.values(spec.headers).every((v) => typeof v === 'string'))
      ) {
        throw new TypeError('headers must map names to strings');
      }
      return spec as unknown as HttpFaultSpec;
    }
    case 'commitFailed':
    case 'certificationFailed':
    case 'preProcessingFailed':
    case 'releaseFailed':
    case 'publishFailed':
      optionalString('productId');
      optionalString('details');
      optionalString('reportUrl');
      codes();
      return spec as unknown as FaultSpec;
    case 'commitFallback':
      optionalString('productId');
      return spec as unknown as FaultSpec;
    case 'stuck':
      optionalString('productId');
      optionalString('submissionId');
      if (!STATUSES.includes(spec.status as SubmissionStatus))
        throw new TypeError('a stuck fault needs a valid status');
      return spec as unknown as FaultSpec;
    default:
      throw new TypeError(`unknown fault kind '${String(spec.kind)}'`);
  }
}
