/**
 * Loaded into every test file (jest `setupFilesAfterEnv`). On the real Durable engine, every
 * test's and hook's timeout is stretched by `patience`: a run there moves through storage queues
 * where the home engine hands results over in memory, and the tests' own timeouts were set for
 * the home engine. On the home engine this file does nothing.
 */
import { ON_REAL_ENGINE, patience } from './engine';

type Fn = (...args: unknown[]) => unknown;

function stretchLast(args: unknown[]): unknown[] {
  const last = args.length - 1;
  if (last >= 0 && typeof args[last] === 'number') return [...args.slice(0, last), patience(args[last])];
  return args;
}

function stretch(original: Fn): Fn {
  const wrapped = ((...args: unknown[]) => original(...stretchLast(args))) as Fn & Record<string, unknown>;
  for (const [key, value] of Object.entries(original)) wrapped[key] = value;
  const each = (original as unknown as { each?: Fn }).each;
  if (each) {
    wrapped.each = (...table: unknown[]) => {
      const bound = each(...table) as Fn;
      return (...args: unknown[]) => bound(...stretchLast(args));
    };
  }
  const only = (original as unknown as { only?: Fn }).only;
  if (only) wrapped.only = stretch(only);
  return wrapped;
}

if (ON_REAL_ENGINE) {
  const g = globalThis as unknown as Record<string, Fn>;
  for (const name of ['it', 'test', 'beforeAll', 'afterAll', 'beforeEach', 'afterEach']) g[name] = stretch(g[name]!);
  // No default timeout of its own: jest.config.js's cap (30 minutes) holds on both engines, and
  // the waits inside a test stretch their patience on this one (helpers/eventually.ts).
}
