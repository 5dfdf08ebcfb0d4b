/**
 * Faults of the MSI/EXE API beyond the HTTP ones (those go through the emulator's shared faults
 * with `match.server: "win32"`): outcomes the Store decides on its own side.
 */
import { pathMatcher } from '../faults';
import { isRecord } from './validate';

type Times = number | 'always';

export type Win32FaultSpec =
  /** The next submission of the product ends FAILED (hasFailed true) with these errors. */
  | { kind: 'certificationFailed'; productId?: string; message?: string; code?: string; times?: Times }
  /** Submissions of the product stay in `status` (UNKNOWN or INPROGRESS) until the fault is removed. */
  | { kind: 'stuck'; productId?: string; submissionId?: string; status: 'UNKNOWN' | 'INPROGRESS' }
  /**
   * Right before a matching request is handled, someone submits the product's draft in Partner
   * Center: the request then meets a submission in progress, as a run racing a person would.
   * `match.path` is a glob on the path below `/submission/v1/product/{productId}/` (e.g. `packages`).
   */
  | {
      kind: 'portalSubmission';
      productId?: string;
      match?: { method?: string; path?: string };
      /** The submission stays in progress until the admin API completes it (default: it follows certificationMs). */
      held?: boolean;
      times?: Times;
    }
  /**
   * The storage behind the next packages commit's URLs refuses the Store: the download goes out
   * with the URL's signature replaced, as after the account key that signed it was rotated, so the
   * storage itself answers 403.
   */
  | { kind: 'packageUrlRefused'; productId?: string; times?: Times };

export type Win32Fault = Win32FaultSpec & { id: string; remaining: Times; fired: number };

export class Win32Faults {
  private faults: Win32Fault[] = [];
  private sequence = 0;

  constructor(private readonly onRemoved: () => void) {}

  add(spec: unknown): Win32Fault {
    const checked = validate(spec);
    const fault = {
      ...checked,
      id: `win32-fault-${++this.sequence}`,
      remaining: checked.kind === 'stuck' ? ('always' as const) : (checked.times ?? 1),
      fired: 0,
    };
    this.faults.push(fault);
    return fault;
  }

  list(): Win32Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    if (this.faults.length === before) return false;
    this.onRemoved();
    return true;
  }

  clear(): void {
    const had = this.faults.length > 0;
    this.faults = [];
    if (had) this.onRemoved();
  }

  certificationFailure(productId: string): Extract<Win32Fault, { kind: 'certificationFailed' }> | undefined {
    const f = this.faults.find(
      (x): x is Extract<Win32Fault, { kind: 'certificationFailed' }> =>
        x.kind === 'certificationFailed' && applies(x.productId, productId),
    );
    if (f) this.consume(f);
    return f;
  }

  packageUrlRefused(productId: string): boolean {
    const f = this.faults.find((x) => x.kind === 'packageUrlRefused' && applies(x.productId, productId));
    if (f) this.consume(f);
    return f !== undefined;
  }

  isStuck(productId: string, submissionId: string, status: string): boolean {
    return this.faults.some(
      (f) =>
        f.kind === 'stuck' &&
        f.status === status &&
        applies(f.productId, productId) &&
        (f.submissionId === undefined || f.submissionId === submissionId),
    );
  }

  /** A portal-submission fault for this request, consumed by one. `rest` is the path below the product. */
  portalSubmissionFor(productId: string, method: string, rest: string): { held: boolean } | undefined {
    const f = this.faults.find((x) => {
      if (x.kind !== 'portalSubmission' || !applies(x.productId, productId)) return false;
      if (x.match?.method && x.match.method.toUpperCase() !== method.toUpperCase()) return false;
      return !x.match?.path || pathMatcher(x.match.path).test(rest);
    });
    if (!f) return undefined;
    this.consume(f);
    return { held: (f as { held?: boolean }).held === true };
  }

  private consume(f: Win32Fault): void {
    f.fired++;
    if (f.remaining === 'always') return;
    f.remaining--;
    if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
  }
}

function applies(wanted: string | undefined, productId: string): boolean {
  return wanted === undefined || wanted.toLowerCase() === productId.toLowerCase();
}

function validate(spec: unknown): Win32FaultSpec {
  if (!isRecord(spec)) throw new TypeError('a fault must be an object');
  const times = spec.times;
  if (times !== undefined && times !== 'always' && !(Number.isInteger(times) && (times as number) > 0))
    throw new TypeError("times must be a positive integer or 'always'");
  for (const key of ['productId', 'submissionId', 'message', 'code'])
    if (spec[key] !== undefined && typeof spec[key] !== 'string') throw new TypeError(`${key} must be a string`);
  switch (spec.kind) {
    case 'certificationFailed':
    case 'packageUrlRefused':
      return spec as unknown as Win32FaultSpec;
    case 'stuck':
      if (spec.status !== 'UNKNOWN' && spec.status !== 'INPROGRESS')
        throw new TypeError("a stuck fault needs status 'UNKNOWN' or 'INPROGRESS'");
      return spec as unknown as Win32FaultSpec;
    case 'portalSubmission': {
      const match = spec.match;
      if (match !== undefined && !isRecord(match)) throw new TypeError('match must be {method?, path?}');
      if (isRecord(match) && match.path !== undefined) {
        if (typeof match.path !== 'string') throw new TypeError('match.path must be a string');
        pathMatcher(match.path);
      }
      return spec as unknown as Win32FaultSpec;
    }
    default:
      throw new TypeError(`unknown win32 fault kind '${String(spec.kind)}'`);
  }
}
