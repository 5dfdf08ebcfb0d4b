import { createHttpHeaders } from '@azure/core-rest-pipeline';
import { StoreRequestError } from '../../../lib/errors';
import { parseJsonLossless, parseRetryAfter, storeErrorFromResponse } from '../../../lib/store/errors';
import { backoffDelay, mayCarryToken, relativePath, tokenError } from '../../../lib/store/policies';
import { isPublicAuthority } from '../../../lib/store/credential';

const answer = (status: number, body?: string, headers: Record<string, string> = {}) => ({
  status,
  headers: createHttpHeaders(headers),
  bodyAsText: body,
});

describe('storeErrorFromResponse', () => {
  it('takes code, message and correlation id from the error envelope', () => {
    const body = JSON.stringify({
      code: 'InvalidState',
      data: [],
      details: [],
      message: 'There is already a pending submission.',
      source: 'Ingestion Api',
      target: 'submission',
    });
    const err = storeErrorFromResponse(
      'POST applications/9N1/submissions',
      answer(409, body, { 'MS-CorrelationId': 'corr-1' }),
    );
    expect(err).toBeInstanceOf(StoreRequestError);
    expect(err).toMatchObject({ code: 'InvalidState', status: 409, correlationId: 'corr-1', retriable: false });
    expect(err.message).toBe(
      'POST applications/9N1/submissions failed with 409 InvalidState: There is already a pending submission. (MS-CorrelationId corr-1)',
    );
    expect(err.storeErrors).toEqual([{ code: 'InvalidState', details: 'There is already a pending submission.' }]);
  });

  it('names empty-bodied answers by their status', () => {
    expect(storeErrorFromResponse('GET x', answer(404, '')).code).toBe('NotFound');
    expect(storeErrorFromResponse('GET x', answer(403)).code).toBe('Forbidden');
    expect(storeErrorFromResponse('GET x', answer(401, 'not json')).code).toBe('Unauthorized');
    expect(storeErrorFromResponse('GET x', answer(418, '[]')).code).toBe('Http418');
    expect(storeErrorFromResponse('GET x', answer(502, '<html>bad gateway</html>'))).toMatchObject({
      code: 'Http502',
      retriable: true,
    });
  });

  it('reads the 429 body and its wait, which is retriable', () => {
    const body = JSON.stringify({ statusCode: 429, message: 'Rate limit is exceeded. Try again in 14 seconds.' });
    const err = storeErrorFromResponse('GET applications/9N1', answer(429, body));
    expect(err).toMatchObject({ code: 'RateLimited', status: 429, retryAfterMs: 14_000, retriable: true });
    expect(err.message).toContain('Try again in 14 seconds');
  });

  it('marks 5xx retriable and other 4xx not', () => {
    const internal = JSON.stringify({ code: 'UnknownInternalFailure', message: 'x', innererror: { trace: 'y' } });
    expect(storeErrorFromResponse('GET x', answer(500, internal))).toMatchObject({
      code: 'UnknownInternalFailure',
      retriable: true,
    });
    expect(
      storeErrorFromResponse('PUT x', answer(400, JSON.stringify({ code: 'InvalidParameterValue', message: 'm' }))),
    ).toMatchObject({ retriable: false });
  });

  it('keeps secrets out of the message even when the service echoes them', () => {
    const body = JSON.stringify({
      code: 'InvalidParameterValue',
      message: 'bad url https://h/c?sv=1&sig=SECRETSIGNATURE&sp=r with Bearer abc.def',
    });
    const err = storeErrorFromResponse('PUT x', answer(400, body));
    expect(err.message).not.toContain('SECRETSIGNATURE');
    expect(err.message).not.toContain('abc.def');
    expect(JSON.stringify(err.facts())).not.toContain('SECRETSIGNATURE');
  });

  it('lists the envelope details as store errors', () => {
    const body = JSON.stringify({
      code: 'InvalidParameterValue',
      message: 'top',
      details: [{ code: 'Listing', message: 'The size of Listings must be 1 or more' }],
    });
    expect(storeErrorFromResponse('PUT x', answer(400, body)).storeErrors).toEqual([
      { code: 'InvalidParameterValue', details: 'top' },
      { code: 'Listing', details: 'The size of Listings must be 1 or more' },
    ]);
  });
});

describe('parseRetryAfter', () => {
  const h = (headers: Record<string, string>) => createHttpHeaders(headers);
  it('reads seconds, milliseconds and HTTP dates', () => {
    expect(parseRetryAfter(h({ 'Retry-After': '7' }))).toBe(7000);
    expect(parseRetryAfter(h({ 'retry-after-ms': '1500' }))).toBe(1500);
    expect(parseRetryAfter(h({ 'x-ms-retry-after-ms': '20' }))).toBe(20);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter(h({ 'Retry-After': 'Tue, 01 Jan 2030 00:00:30 GMT' }), undefined, now)).toBe(30_000);
    expect(parseRetryAfter(h({ 'Retry-After': 'Tue, 01 Jan 2029 00:00:30 GMT' }), undefined, now)).toBe(0);
  });
  it('falls back to the message, and to nothing', () => {
    expect(parseRetryAfter(h({}), 'Rate limit is exceeded. Try again in 2 minutes.')).toBe(120_000);
    expect(parseRetryAfter(h({}), 'nothing to see')).toBeUndefined();
    expect(parseRetryAfter(h({ 'Retry-After': 'soon' }))).toBeUndefined();
  });
});

describe('parseJsonLossless', () => {
  it('keeps string ids exactly and never turns a big bare integer into another number', () => {
    const parsed = parseJsonLossless(
      '{"id":"1152921504621243540","n":1152921504621243541,"neg":-1152921504621243541,"small":42,"f":1.5e300,"s":"1152921504621243542 in text"}',
    ) as Record<string, unknown>;
    expect(parsed.id).toBe('1152921504621243540');
    expect(parsed.n).toBe('1152921504621243541');
    expect(parsed.neg).toBe('-1152921504621243541');
    expect(parsed.small).toBe(42);
    expect(parsed.f).toBe(1.5e300);
    expect(parsed.s).toBe('1152921504621243542 in text');
  });
  it('handles escaped quotes inside strings', () => {
    expect(parseJsonLossless('{"a":"x\\"1152921504621243541\\"","b":[1152921504621243541]}')).toEqual({
      a: 'x"1152921504621243541"',
      b: ['1152921504621243541'],
    });
  });
});

describe('retry and token rules', () => {
  it('backs off exponentially with jitter inside [half, full] and under the cap', () => {
    expect(backoffDelay(0, 1000, 20_000, () => 0)).toBe(500);
    expect(backoffDelay(0, 1000, 20_000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, 20_000, () => 1)).toBe(8000);
    expect(backoffDelay(10, 1000, 20_000, () => 1)).toBe(20_000);
  });

  it('lets a token travel only to the API origin, over TLS or on loopback', () => {
    const base = 'https://manage.devcenter.microsoft.com/v1.0/my/';
    expect(mayCarryToken('https://manage.devcenter.microsoft.com/v1.0/my/applications', base)).toBe(true);
    expect(mayCarryToken('https://evil.example/v1.0/my/applications', base)).toBe(false);
    expect(mayCarryToken('http://127.0.0.1:8123/v1.0/my/x', 'http://127.0.0.1:8123/v1.0/my/')).toBe(true);
    expect(mayCarryToken('http://store.internal/v1.0/my/x', 'http://store.internal/v1.0/my/')).toBe(false);
  });

  it('names calls relative to the API base, without the query', () => {
    expect(
      relativePath('https://h/v1.0/my/applications/9N1/submissions?isMinimalResponse=true', 'https://h/v1.0/my/'),
    ).toBe('applications/9N1/submissions');
  });

  it('knows the public Microsoft authorities from anything else', () => {
    expect(isPublicAuthority('https://login.microsoftonline.com')).toBe(true);
    expect(isPublicAuthority('https://login.microsoftonline.us/')).toBe(true);
    expect(isPublicAuthority('https://127.0.0.1:8443')).toBe(false);
  });

  it('tells a refused registration from an unreachable authority', () => {
    const refused = Object.assign(new Error('invalid_client: AADSTS7000215: Invalid client secret provided.'), {
      name: 'AuthenticationRequiredError',
    });
    expect(tokenError(refused)).toMatchObject({ code: 'AuthenticationFailed', retriable: false });
    const status400 = Object.assign(new Error('bad'), { name: 'AuthenticationError', statusCode: 400 });
    expect(tokenError(status400).retriable).toBe(false);
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { name: 'AuthenticationError' });
    expect(tokenError(unreachable)).toMatchObject({ code: 'AuthenticationFailed', retriable: true });
    const noIdentity = Object.assign(new Error('ManagedIdentityCredential: no endpoint'), {
      name: 'CredentialUnavailableError',
    });
    expect(tokenError(noIdentity)).toMatchObject({ code: 'CredentialUnavailable', retriable: false });
    // Assembled at run time so no secret-shaped literal is committed.
    const leaky = new Error(`failed for ${['client', 'secret'].join('_')}=abcdefgh12345 with Bearer xyz.abc`);
    expect(tokenError(leaky).message).not.toMatch(/abcdefgh12345|xyz\.abc/);
  });
});
