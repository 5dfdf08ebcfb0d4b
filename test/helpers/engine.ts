/**
 * Which Durable engine the sandbox tests run on: the sandbox host's own (`home`, the default) or
 * the real Durable Task extension in the .NET reference host (`real`, with SANDBOX_DURABLE=real;
 * `npm run test:real`). The same test files run on both; the few that need the home engine's fast
 * clock (durable time many times faster than real time) say so with `itOnFastClock`.
 */
import { defaultDurableEngine } from '../../sandbox/host';

export const DURABLE_ENGINE = defaultDurableEngine();
export const ON_REAL_ENGINE = DURABLE_ENGINE === 'real';

/**
 * A test that needs the home engine's fast clock: on the real extension its durable waits (a
 * Store's Retry-After of minutes, a deadline of a minute, dozens of growing poll intervals) would
 * take that long in real time. It runs on the home engine only.
 */
export const itOnFastClock: jest.It = ON_REAL_ENGINE ? it.skip : it;

/**
 * App settings that keep the real engine's durable waits short: the Store emulator answers in
 * milliseconds, so polls a second apart and a one-second queue settle lose nothing but time.
 * On the home engine the fast clock does the same, and these are not used.
 */
export const REAL_ENGINE_SETTINGS: Record<string, string> = {
  POLL_FIRST_INTERVAL_SECONDS: '1',
  POLL_MAX_INTERVAL_SECONDS: '2',
  QUEUE_SETTLE_SECONDS: '1',
  QUEUE_POLL_SECONDS: '1',
  // A cancel waits this long (plus 5 s) for an activity in flight before it cleans up.
  STORE_REQUEST_TIMEOUT_SECONDS: '5',
};

/**
 * How much longer a test waits on the real engine: each step of a run there is a round trip
 * through storage queues (polled, on a machine whose load varies), where the home engine hands
 * results over in memory. Verdicts never depend on it: a wait only bounds how long a hang takes
 * to be reported.
 */
export function patience(ms: number): number {
  return ON_REAL_ENGINE ? ms * 4 : ms;
}
