/**
 * Scrubs secrets from text bound for logs, errors, reports and orchestration history.
 * Patterns catch the shapes a secret usually travels in; `registerSecret` catches the rest:
 * the product registers every token and SAS URL it handles, so a secret that shows up later
 * in an unexpected shape (an emulator's opaque token, a SAS inside a stack trace) is still caught.
 */

const MASK = '[REDACTED]';

/** Shorter values would match ordinary words and ids; no real token or signature is this short. */
const MIN_SECRET_LENGTH = 8;

/** Bounded so a long-running host that handles a token per call cannot grow without end. */
const MAX_REGISTERED = 2000;

const registered = new Map<string, true>();
/** Registered secrets longest first (so a SAS URL is masked whole before its signature alone); rebuilt lazily. */
let sorted: string[] | undefined;

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization headers and anything printed like one.
  [/\b(Bearer|SharedKey|SharedKeyLite)\s+[A-Za-z0-9\-._~+/:]+=*/gi, `$1 ${MASK}`],
  // SAS signature in a query string, raw (`+`, `/`, `=`) or percent-encoded.
  [/(^|[?&;\s"'(])(sig=)[^&\s"'<>)]*/gi, `$1$2${MASK}`],
  // Form-encoded OAuth secrets.
  [/\b(client_secret|client_assertion|access_token|refresh_token|id_token)=[^&\s"'<>]*/gi, `$1=${MASK}`],
  // The same names as JSON properties.
  [
    /("(?:client_secret|client_assertion|access_token|refresh_token|id_token|clientSecret|accountKey)"\s*:\s*")(?:[^"\\]|\\.)*"/gi,
    `$1${MASK}"`,
  ],
  // Storage connection strings.
  [/\b(AccountKey|SharedAccessSignature)=[^;\s"']*/gi, `$1=${MASK}`],
  // JWTs (header.payload.signature; the signature may be empty for unsigned tokens).
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, MASK],
];

/** Remembers a secret so that `redact` removes it wherever it appears, also percent-encoded. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  for (const variant of variantsOf(value)) {
    registered.delete(variant);
    registered.set(variant, true);
  }
  // SAS URLs: the signature alone must go too, in every spelling it may be printed in.
  const sig = /[?&]sig=([^&#]*)/i.exec(value)?.[1];
  if (sig) {
    for (const variant of variantsOf(sig)) if (variant.length >= MIN_SECRET_LENGTH) registered.set(variant, true);
  }
  sorted = undefined;
  while (registered.size > MAX_REGISTERED) {
    const oldest = registered.keys().next().value;
    if (oldest === undefined) break;
    registered.delete(oldest);
  }
}

function variantsOf(value: string): string[] {
  const out = new Set<string>([value]);
  out.add(value.replace(/\+/g, '%2B'));
  try {
    out.add(decodeURIComponent(value));
  } catch {
    // not percent-encoded text
  }
  out.add(encodeURIComponent(value));
  return [...out];
}

/** Forgets every registered secret (tests). */
export function clearRegisteredSecrets(): void {
  registered.clear();
  sorted = undefined;
}

export function redact(text: string, extraSecrets: string[] = []): string {
  if (!text) return text;
  let out = text;
  sorted ??= [...registered.keys()].sort((a, b) => b.length - a.length);
  const extra = extraSecrets.flatMap((s) => (s && s.length >= MIN_SECRET_LENGTH ? variantsOf(s) : []));
  const literals = extra.length ? [...extra, ...sorted].sort((a, b) => b.length - a.length) : sorted;
  for (const secret of literals) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A URL fit for a message: scheme, host and path, never the query (SAS) or fragment. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return redact(url.split('?')[0] ?? '');
  }
}
