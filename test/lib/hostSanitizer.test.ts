/**
 * The error facts survive the Functions host's credential filter (a port of Sanitizer.cs in
 * sandbox/host/sanitizer.ts): a Store 403 whose message holds a SAS URL or `key=` text is still
 * read as not retriable, so the run stops at once instead of retrying for 25 minutes.
 */
import { cleanFailureMessage, parseActivityFailure, StoreRequestError, toActivityError } from '../../lib/errors';
import { HIDDEN_CREDENTIAL, sanitize } from '../../sandbox/host/sanitizer';

/** How the real host shows an activity failure to durable-functions: Reason, " \n ", Details. */
const asRealHost = (name: string, message: string): Error =>
  new Error(
    `Activity function '${name}' failed:  ${sanitize(message)} \n {"$type":"System.Exception","Message":"${sanitize(message)}","StackTrace":"   at Microsoft.Azure.WebJobs.Script..."}`,
  );

describe("the host's credential filter and the error facts", () => {
  it('cuts from a credential token to the next quote, as Sanitizer.cs does', () => {
    expect(sanitize('see https://a/b?sv=1&sig=abc&se=2 "tail"')).toBe(`see https://a/b?sv=1${HIDDEN_CREDENTIAL}"tail"`);
    expect(sanitize('no quote after key=value and more')).toBe(`no quote after ${HIDDEN_CREDENTIAL}`);
    expect(sanitize('PublicKeyToken=31bf3856 stays')).toBe('PublicKeyToken=31bf3856 stays');
    expect(sanitize('plain text')).toBe('plain text');
  });

  it.each([
    [
      'a SAS URL',
      'PUT https://acct.blob.core.windows.net/c/pkg?sv=2024-01-01&sig=SECRET%2B&se=x failed: 403 "AuthorizationFailure"',
    ],
    ['key= text', 'The Store refused: partitionKey="p" key=abc, AccountKey=xyz; no retry'],
    ['an escaped quote', 'Body: {\\"error\\": \\"Token=abc\\"}'],
  ])('keeps code and retriable of a Store 403 whose message holds %s', (_what, message) => {
    const err = new StoreRequestError(message, { code: 'Forbidden', status: 403, correlationId: 'corr-1' });
    const seen = parseActivityFailure(asRealHost('createSubmission', toActivityError(err).message));
    expect(seen).toMatchObject({
      code: 'Forbidden',
      retriable: false,
      status: 403,
      correlationId: 'corr-1',
      name: 'StoreRequestError',
    });
    expect(seen.message).not.toMatch(/Activity function|StackTrace|\[\[submitter-error|\$type/);
    expect(seen.message.length).toBeGreaterThan(0);
  });

  it('reads the facts in the FailureDetails form and in the old form (facts at the end)', () => {
    const err = new StoreRequestError('Conflict', { code: 'InvalidState', status: 409 });
    expect(parseActivityFailure(new Error(toActivityError(err).message))).toMatchObject({
      code: 'InvalidState',
      retriable: false,
      message: 'Conflict',
    });
    const old = `Activity function 'x' failed: Conflict\n[[submitter-error]]{"name":"StoreRequestError","code":"InvalidState","retriable":false}`;
    expect(parseActivityFailure(new Error(old))).toMatchObject({
      code: 'InvalidState',
      retriable: false,
      message: 'Conflict',
    });
  });

  it('shows a clean message: no host prefixes, no .NET details or stack', () => {
    expect(
      cleanFailureMessage(
        "Orchestrator function 'followSubmission' failed: Orchestrator function 'followSubmission' failed: The Store stopped answering \n Message: x, StackTrace:    at DurableTask.Core...",
      ),
    ).toBe('The Store stopped answering');
    expect(cleanFailureMessage('Message: Timed out, StackTrace:   at X.Y()')).toBe('Timed out');
    expect(cleanFailureMessage("Activity function 'a' failed:  Error: socket hang up")).toBe('socket hang up');
    expect(cleanFailureMessage('System.TimeoutException: The operation timed out\n   at Foo.Bar()')).toBe(
      'The operation timed out',
    );
  });
});
