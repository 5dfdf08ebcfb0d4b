/**
 * The Functions host's credential filter, as it treats a worker's error messages: the host
 * builds the invocation's exception from what the worker sent and passes its text through
 * `Sanitizer.Sanitize` (azure-functions-host `RpcException.cs` and `Sanitizer.cs`, the latter
 * shared with the WebJobs SDK). From each credential token (case-insensitive)
 * up to the next `<`, `"` or `'` (or to the end of the text) everything becomes
 * `[Hidden Credential]`; `PublicKeyToken=` is left alone; a `scheme://user:password@host:port`
 * URL is hidden whole. A message is cut, not masked: whatever followed the token on the same
 * stretch of text is gone, which is why the app puts its error facts first (lib/errors.ts).
 */

export const HIDDEN_CREDENTIAL = '[Hidden Credential]';

const VALUE_TERMINATORS = ['<', '"', "'"];
const ALLOWED_TOKENS = ['PublicKeyToken='];
/** Sanitizer.cs CredentialTokens, in its order (the order matters: each pass sees the one before). */
const CREDENTIAL_TOKENS = [
  'Token=',
  'DefaultEndpointsProtocol=http',
  'AccountKey=',
  'Data Source=',
  'Server=',
  'Password=',
  'pwd=',
  '&amp;sig=',
  '&sig=',
  '?sig=',
  'SharedAccessKey=',
  '&amp;code=',
  '&code=',
  '?code=',
  '/code=',
  'key=',
];
const CREDENTIAL_URI = /\b([a-zA-Z]+):\/\/([^:/\s]+):([^@/\s]+)@([^:/\s]+):([0-9]+)\b/gi;

function indexOfAny(text: string, chars: string[], from: number): number {
  let best = -1;
  for (const c of chars) {
    const at = text.indexOf(c, from);
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}

export function sanitize(input: string | undefined | null): string {
  if (!input) return '';
  // Everything it might replace holds '=' or ':' (Sanitizer.MayContainCredentials).
  if (!input.includes('=') && !input.includes(':')) return input;
  let t = input;
  let hidden = input;
  for (const allowed of ALLOWED_TOKENS) hidden = hidden.split(allowed).join('#'.repeat(allowed.length));
  for (const token of CREDENTIAL_TOKENS) {
    const needle = token.toLowerCase();
    for (let start = hidden.toLowerCase().indexOf(needle); start >= 0;) {
      const end = indexOfAny(t, VALUE_TERMINATORS, start);
      t = t.slice(0, start) + HIDDEN_CREDENTIAL + (end >= 0 ? t.slice(end) : '');
      hidden = hidden.slice(0, start) + HIDDEN_CREDENTIAL + (end >= 0 ? hidden.slice(end) : '');
      start = hidden.toLowerCase().indexOf(needle, start);
    }
  }
  return input.includes(':') ? t.replace(CREDENTIAL_URI, HIDDEN_CREDENTIAL) : t;
}

const OOP_LABEL = '$OutOfProcData$:';

/**
 * The error the host makes of a failed invocation: message and stack sanitized. Not modelled:
 * the real host sanitizes an orchestrator's whole message, the `$OutOfProcData$` state JSON
 * included, which a cut can leave unreadable; here that JSON is kept, so the engine can still
 * read the episode's actions and custom status.
 */
export function sanitizedFailure(e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  const at = err.message.indexOf(OOP_LABEL);
  const message = at >= 0 ? `${sanitize(err.message.slice(0, at))}${err.message.slice(at)}` : sanitize(err.message);
  const out = new Error(message);
  out.name = err.name;
  out.stack = err.stack === undefined ? undefined : sanitize(err.stack);
  return out;
}
