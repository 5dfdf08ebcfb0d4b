import { clearRegisteredSecrets, describeUrl, redact, registerSecret } from '../../lib/redact';

afterEach(() => clearRegisteredSecrets());

describe('redact', () => {
  it('removes bearer tokens, keeping the scheme so the line still reads', () => {
    const out = redact('Authorization: Bearer abc.DEF-123_x/y+z== sent');
    expect(out).toBe('Authorization: Bearer [REDACTED] sent');
  });

  it('removes SAS signatures: percent-encoded, with a raw +, and %2B-fixed', () => {
    const encoded = 'https://a.blob.core.windows.net/c/b?sv=2017-04-17&sr=b&sig=Ab%2Fcd%2Bef%3D&se=2030-01-01&sp=rwl';
    const raw = 'https://a.blob.core.windows.net/c/b?sv=2017-04-17&sig=Ab/cd+ef=&sp=rwl';
    const fixed = 'https://a.blob.core.windows.net/c/b?sig=Ab%2Fcd%2Bef%3D';
    for (const url of [encoded, raw, fixed]) {
      const out = redact(`PUT ${url} failed`);
      expect(out).not.toMatch(/Ab(%2F|\/)cd/);
      expect(out).toContain('sig=[REDACTED]');
    }
    // The rest of the query is kept: sv and sp help diagnose an old or read-only SAS.
    expect(redact(encoded)).toContain('sv=2017-04-17');
    expect(redact(encoded)).toContain('sp=rwl');
  });

  it('removes client_secret and other OAuth fields, form-encoded and in JSON', () => {
    // Fake secrets are assembled at run time, so nothing shaped like a real one is committed.
    const field = ['client', 'secret'].join('_');
    expect(redact(`grant_type=client_credentials&${field}=s3cr3t~value&scope=x`)).toBe(
      `grant_type=client_credentials&${field}=[REDACTED]&scope=x`,
    );
    expect(redact('{"access_token":"opaque-token-value","expires_in":3600}')).toBe(
      '{"access_token":"[REDACTED]","expires_in":3600}',
    );
    expect(redact('client_assertion=eyJhbGciOi.x.y&a=1')).not.toContain('eyJhbGciOi');
  });

  it('removes JWT-looking strings wherever they are', () => {
    const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${part({ typ: 'JWT', alg: 'RS256' })}.${part({ aud: 'https://manage' })}.c2lnbmF0dXJl`;
    expect(redact(`token ${jwt} here`)).toBe('token [REDACTED] here');
    // Unsigned tokens end in a dot.
    expect(redact(`x eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. y`)).toBe('x [REDACTED] y');
  });

  it('removes account keys and SAS from storage connection strings', () => {
    const cs =
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFy+/==;EndpointSuffix=core.windows.net';
    expect(redact(cs)).toBe(
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED];EndpointSuffix=core.windows.net',
    );
  });

  it('removes registered secrets of any shape, also percent-encoded and inside longer text', () => {
    const opaque = 'emulator-token-7f3a9c2b1d';
    registerSecret(opaque);
    expect(redact(`got ${opaque}, retrying with ${encodeURIComponent(opaque + '+x')}`)).not.toContain('7f3a9c2b1d');

    const sas = 'https://h/c/b?sv=2017-04-17&sig=QUJD+REVG/R0g=&sp=rw';
    registerSecret(sas);
    // The signature alone, as a stack trace might print it after decoding.
    expect(redact('signature QUJD+REVG/R0g= mismatch')).toBe('signature [REDACTED] mismatch');
    expect(redact('signature QUJD%2BREVG%2FR0g%3D mismatch')).toBe('signature [REDACTED] mismatch');
  });

  it('takes one-off secrets without registering them', () => {
    expect(redact('password is hunter2-long', ['hunter2-long'])).toBe('password is [REDACTED]');
    expect(redact('password is hunter2-long')).toBe('password is hunter2-long');
  });

  it('ignores short registered values so ordinary words survive', () => {
    registerSecret('abc');
    expect(redact('abc def')).toBe('abc def');
  });

  it('leaves ordinary log lines, ids and paths alone', () => {
    const line =
      'POST applications/9NBLGGH4R315/submissions/1152921504621243540/commit -> 202 (MS-CorrelationId 0f8fad5b-d9cb-469f)';
    expect(redact(line)).toBe(line);
  });
});

describe('describeUrl', () => {
  it('keeps origin and path and drops the query', () => {
    expect(describeUrl('https://acct.blob.core.windows.net/c/b.zip?sv=1&sig=abc')).toBe(
      'https://acct.blob.core.windows.net/c/b.zip',
    );
    expect(describeUrl('not a url?sig=abcdefghij')).toBe('not a url');
  });
});
