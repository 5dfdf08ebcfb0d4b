import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Reply } from './http';
import type { UploadTarget } from './state';

/** Azure's SAS time format: no milliseconds. */
function sasTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An Azure Storage error in its XML format, with the headers the service sends along. */
export function storageError(status: number, code: string, message: string, extra: Record<string, string> = {}): Reply {
  const requestId = randomUUID();
  const extras = Object.entries(extra)
    .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join('');
  const body =
    `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code>` +
    `<Message>${escapeXml(message)}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message>${extras}</Error>`;
  return {
    status,
    body,
    headers: { 'Content-Type': 'application/xml', 'x-ms-error-code': code, 'x-ms-request-id': requestId },
  };
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export type SasCheck = { ok: true; version: string } | { ok: false; reply: Reply };

/**
 * Mints and checks the blob SAS URLs handed out as `fileUploadUrl`. The key is the emulator's own,
 * random per start; only this emulator can verify them.
 */
export class SasSigner {
  private readonly key = randomBytes(32);
  /** Every signature handed out, for the leak check of `/_emulator/secrets`. */
  readonly minted: string[] = [];

  constructor(
    readonly account: string,
    readonly container: string,
  ) {}

  /**
   * A SAS URL on `baseUrl` (the emulator's upload proxy, path-style like Azurite). The signature
   * always contains a `+` left unencoded in the URL, as the real service's sometimes does: a client
   * that does not turn it into %2B sends a space and is refused.
   */
  mint(baseUrl: string, version: string, lifetimeSeconds: number, blobName: string = randomUUID()): UploadTarget {
    const now = Date.now();
    const se = sasTime(now + lifetimeSeconds * 1000);
    for (let back = 0; ; back++) {
      // Only the start time varies: about half of all HMACs contain a '+' in base64.
      const st = sasTime(now - 15 * 60_000 - back * 1000);
      const fields = { sv: version, st, se, sr: 'b', sp: 'rwl' };
      const sig = this.sign(blobName, fields);
      if (!sig.includes('+')) continue;
      this.minted.push(sig);
      const query =
        Object.entries(fields)
          .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
          .join('&') + `&sig=${encodeURIComponent(sig).replace(/%2B/g, '+')}`;
      return { blobName, url: `${baseUrl}/${this.account}/${this.container}/${blobName}?${query}`, expiresOn: se };
    }
  }

  /** Checks the SAS of a request for `blobName` needing permission `needed` (r, w, d...). */
  verify(blobName: string, params: URLSearchParams, needed: string, now = Date.now()): SasCheck {
    const fields = {
      sv: params.get('sv') ?? '',
      st: params.get('st') ?? '',
      se: params.get('se') ?? '',
      sr: params.get('sr') ?? '',
      sp: params.get('sp') ?? '',
    };
    const given = params.get('sig');
    const fail = (detail: string): SasCheck => ({
      ok: false,
      reply: storageError(
        403,
        'AuthenticationFailed',
        'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
        { AuthenticationErrorDetail: detail },
      ),
    });
    if (!given || !fields.sv || !fields.se || !fields.sr || !fields.sp)
      return fail('The SAS token is missing mandatory parameters.');
    const expected = Buffer.from(this.sign(blobName, fields));
    const actual = Buffer.from(given);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      return fail('Signature did not match. The signature fields and the signed resource must be unchanged.');
    }
    const start = fields.st ? Date.parse(fields.st) : 0;
    const expiry = Date.parse(fields.se);
    if (!(now >= start && now < expiry)) {
      return fail(
        `Signature not valid in the specified time frame: Start [${new Date(start).toUTCString()}] - Expiry [${new Date(expiry).toUTCString()}] - Current [${new Date(now).toUTCString()}]`,
      );
    }
    if (!fields.sp.includes(needed)) {
      return {
        ok: false,
        reply: storageError(
          403,
          'AuthorizationPermissionMismatch',
          'This request is not authorized to perform this operation using this permission.',
        ),
      };
    }
    return { ok: true, version: fields.sv };
  }

  private sign(blobName: string, f: { sv: string; st: string; se: string; sr: string; sp: string }): string {
    // Field order of the blob service SAS string-to-sign (sp, st, se, resource, si, sip, spr, sv, sr, response headers).
    const stringToSign = [
      f.sp,
      f.st,
      f.se,
      `/blob/${this.account}/${this.container}/${blobName}`,
      '',
      '',
      '',
      f.sv,
      f.sr,
      '',
      '',
      '',
      '',
      '',
    ].join('\n');
    return createHmac('sha256', this.key).update(stringToSign, 'utf8').digest('base64');
  }
}
