/**
 * How the HTTP API answers when something goes wrong that no handler expected. Kept apart from
 * the handlers so it can be used (and tested) without registering any function.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { redact } from '../lib/redact';

/** The API's error body: `{"error": {"code", "message", ...}}`. */
export function problem(
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): HttpResponseInit {
  return { status, jsonBody: { error: { code, message, ...extra } } };
}

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * Every answer says what happened: an error no handler expected still answers with a JSON
 * body, and its correlation id — the invocation id, which the host's logs and Application
 * Insights carry — ties the answer to the logged error. The error's own text stays in the log:
 * it may describe internals (or, from a dependency, hold a URL) the caller need not see.
 */
export function answering(handler: Handler): Handler {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (e) {
      const correlationId = context.invocationId;
      context.error(
        redact(
          `${request.method} ${new URL(request.url).pathname} failed unexpectedly (correlation id ${correlationId}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        ),
      );
      return {
        ...problem(
          500,
          'InternalError',
          `The request failed unexpectedly (correlation id ${correlationId}, in the app's logs). Trying again may help; if it does not, report the correlation id.`,
          { correlationId },
        ),
        headers: { 'x-correlation-id': correlationId },
      };
    }
  };
}
