/**
 * Client-side pacing of Store API calls, so that the runs of one process together stay under
 * the tenant's rate limit (20 calls per minute) instead of learning it from 429s: a burst of
 * runs otherwise spends about half of its calls on refusals, and at the Store's real scale
 * every 429 whose Retry-After exceeds the client's own wait costs the run a durable retry.
 *
 * Why per process: the limiter is in memory, shared by every client of the process (activities
 * make a client per invocation). When the Function App scales out, each instance paces itself
 * to the same limit, so N instances may together send N times the budget; set
 * STORE_MAX_REQUESTS_PER_MINUTE to the tenant's limit divided by the instances expected to run
 * Store calls at once. Either way the retries on 429 with Retry-After stay the backstop, for
 * scale-out and for other tools calling the Store with the same tenant.
 */
import type { PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';

export class CallPacer {
  /** When recent calls got their answer (ms), oldest first. */
  private readonly answered: number[] = [];
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limit >= 1) || !(windowMs > 0)) throw new RangeError('a pacer needs limit >= 1 and windowMs > 0');
  }

  /**
   * Waits for a slot, first come first served; call the returned function once the answer (or
   * the failure) is in. A call counts against the window from its answer, not from its start:
   * the Store counts a call when it arrives, which is somewhere in between, so counting from the
   * answer can never put more than `limit` calls into any window the Store sees.
   */
  async acquire(): Promise<() => void> {
    if (this.waiting.length > 0 || !this.hasRoom()) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        this.pump();
      });
    } else {
      this.inFlight++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.answered.push(this.now());
      this.pump();
    };
  }

  /** Calls waiting for a slot (for tests and logs). */
  get queued(): number {
    return this.waiting.length;
  }

  private hasRoom(): boolean {
    const since = this.now() - this.windowMs;
    while (this.answered.length > 0 && (this.answered[0] as number) <= since) this.answered.shift();
    return this.inFlight + this.answered.length < this.limit;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.hasRoom()) {
      this.inFlight++;
      (this.waiting.shift() as () => void)();
    }
    if (this.waiting.length === 0 || this.timer) return;
    // Full because of answered calls: wake when the oldest leaves the window. Full because of
    // calls in flight: their release pumps.
    const oldest = this.answered[0];
    if (oldest === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, oldest + this.windowMs - this.now() + 1),
    );
    this.timer.unref?.();
  }
}

const pacers = new Map<string, CallPacer>();

/** The process's pacer for one tenant on one API (and one limit), made on first use. */
export function sharedPacer(key: string, limit: number, windowMs: number): CallPacer {
  const full = `${key}|${limit}|${windowMs}`;
  let pacer = pacers.get(full);
  if (!pacer) pacers.set(full, (pacer = new CallPacer(limit, windowMs)));
  return pacer;
}

/**
 * Holds each attempt (retries and the resend after a token refresh included) until the pacer
 * has room. It sits outside the per-attempt timeout, so waiting for a slot never times a call out.
 */
export function pacingPolicy(
  pacer: CallPacer,
  applies: (request: PipelineRequest) => boolean = () => true,
  name = 'storePacingPolicy',
): PipelinePolicy {
  return {
    name,
    async sendRequest(request, next) {
      if (!applies(request)) return next(request);
      const release = await pacer.acquire();
      try {
        return await next(request);
      } finally {
        release();
      }
    },
  };
}

/** A commit call (`POST …/submissions/{id}/commit`), which the Store limits beyond the call limit. */
export function isCommitCall(request: PipelineRequest): boolean {
  return request.method === 'POST' && /\/submissions\/[^/]+\/commit$/i.test(new URL(request.url).pathname);
}
