/**
 * Turning manifest bytes into text and JSON with errors a person can act on: where (line and
 * column) and what (a bad byte, a missing comma, a duplicate key).
 *
 * UTF-16 with a byte order mark is accepted and decoded: Windows PowerShell 5 writes it with
 * `Out-File` and `>`, and refusing a file for the editor's default encoding helps nobody.
 */

import { createScanner, visit, type ParseErrorCode, type SyntaxKind } from 'jsonc-parser';
import { firstInvalidUtf8 } from '../zip/utf8';

export type Decoded = { text: string; encoding: 'utf-8' | 'utf-16le' | 'utf-16be' } | { error: string };

export function decodeManifest(bytes: Buffer): Decoded {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return decodeUtf16(bytes.subarray(2), 'utf-16le');
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return decodeUtf16(bytes.subarray(2), 'utf-16be');
  const body =
    bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  const bad = firstInvalidUtf8(body);
  if (bad >= 0) {
    const offset = bad + (body === bytes ? 0 : 3);
    const line = countLines(bytes.subarray(0, offset));
    return {
      error: `is not valid UTF-8: byte ${offset} (line ${line}) is 0x${bytes[offset]!.toString(16).padStart(2, '0')}; save the file as UTF-8`,
    };
  }
  return { text: body.toString('utf8'), encoding: 'utf-8' };
}

function decodeUtf16(body: Buffer, encoding: 'utf-16le' | 'utf-16be'): Decoded {
  if (body.length % 2 !== 0)
    return {
      error: `is ${encoding.toUpperCase()} (it starts with that byte order mark) but has an odd number of bytes; save it as UTF-8`,
    };
  const le = encoding === 'utf-16le' ? Buffer.from(body) : Buffer.from(body).swap16();
  try {
    return { text: new TextDecoder('utf-16le', { fatal: true }).decode(le), encoding };
  } catch {
    return {
      error: `is ${encoding.toUpperCase()} (it starts with that byte order mark) but holds an unpaired surrogate; save it as UTF-8`,
    };
  }
}

function countLines(b: Buffer): number {
  let n = 1;
  for (const c of b) if (c === 0x0a) n++;
  return n;
}

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`invalid JSON at line ${line}, column ${column}: ${reason}`);
  }
}

/** Valid JSON, but more of it than a manifest can need: refused before anything walks it. */
export class JsonLimitError extends JsonSyntaxError {
  constructor(reason: string, line: number, column: number) {
    super(reason, line, column);
    this.message = `${reason} (at line ${line}, column ${column})`;
  }
}

/**
 * How deep a manifest may nest. The deepest real field (a listing's image in a platform
 * override) is 8 levels down; every reader after the parser (schema, merge, file references)
 * walks the document recursively, so the bound here is what keeps them off the stack's edge.
 */
export const MAX_JSON_DEPTH = 64;
/** Values (objects, arrays, strings, numbers...) in one document: a real manifest has a few hundred. */
export const MAX_JSON_VALUES = 100_000;

/**
 * A strict RFC 8259 parser that says where it failed and refuses duplicate keys (JSON.parse
 * would silently keep the last one, so a repeated "target" could submit to the wrong product).
 * jsonc-parser's scanner and visitor do the reading; comments and trailing commas are refused.
 * Its visitor recurses once per level, so the depth is checked first by the scanner alone,
 * which does not recurse.
 */
export function parseJson(text: string): unknown {
  checkBounds(text);
  return build(text);
}

// jsonc-parser's token kinds and error codes are `const enum`s, which isolated modules cannot
// read; these are their published values (jsonc-parser's main.d.ts).
const Token = {
  OpenBrace: 1 as SyntaxKind,
  CloseBrace: 2 as SyntaxKind,
  OpenBracket: 3 as SyntaxKind,
  CloseBracket: 4 as SyntaxKind,
  Null: 7 as SyntaxKind,
  True: 8 as SyntaxKind,
  False: 9 as SyntaxKind,
  String: 10 as SyntaxKind,
  Number: 11 as SyntaxKind,
  EOF: 17 as SyntaxKind,
};
const Err = {
  InvalidNumberFormat: 2 as ParseErrorCode,
  ColonExpected: 5 as ParseErrorCode,
  CommaExpected: 6 as ParseErrorCode,
  CloseBraceExpected: 7 as ParseErrorCode,
  CloseBracketExpected: 8 as ParseErrorCode,
  EndOfFileExpected: 9 as ParseErrorCode,
  InvalidCommentToken: 10 as ParseErrorCode,
  UnexpectedEndOfString: 12 as ParseErrorCode,
  UnexpectedEndOfNumber: 13 as ParseErrorCode,
  InvalidUnicode: 14 as ParseErrorCode,
  InvalidEscapeCharacter: 15 as ParseErrorCode,
  InvalidCharacter: 16 as ParseErrorCode,
};
const VALUE_TOKENS = new Set([
  Token.OpenBrace,
  Token.OpenBracket,
  Token.String,
  Token.Number,
  Token.True,
  Token.False,
  Token.Null,
]);

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < offset; k++) {
    if (text.charCodeAt(k) === 0x0a) {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function failAt(text: string, offset: number, reason: string, limit = false): never {
  const { line, column } = lineAndColumn(text, offset);
  throw limit ? new JsonLimitError(reason, line, column) : new JsonSyntaxError(reason, line, column);
}

function checkBounds(text: string): void {
  const scanner = createScanner(text, true);
  let depth = 0;
  let values = 0;
  for (let token = scanner.scan(); token !== Token.EOF; token = scanner.scan()) {
    if (token === Token.OpenBrace || token === Token.OpenBracket) {
      if (++depth > MAX_JSON_DEPTH)
        failAt(
          text,
          scanner.getTokenOffset(),
          `nests deeper than ${MAX_JSON_DEPTH} levels; the limit is ${MAX_JSON_DEPTH} (a manifest needs fewer than 10)`,
          true,
        );
    } else if (token === Token.CloseBrace || token === Token.CloseBracket) {
      depth = Math.max(0, depth - 1);
    }
    if (VALUE_TOKENS.has(token)) {
      if (++values > MAX_JSON_VALUES)
        failAt(
          text,
          scanner.getTokenOffset(),
          `holds more than ${MAX_JSON_VALUES.toLocaleString('en-US')} JSON values; the limit is ${MAX_JSON_VALUES.toLocaleString('en-US')}`,
          true,
        );
    }
  }
}

type Container = { kind: 'object'; value: Record<string, unknown>; key?: string } | { kind: 'array'; value: unknown[] };
/** What the text must hold next; error messages are phrased from it. */
type Expecting = 'value' | 'property' | 'colon' | 'after' | 'end';

function build(text: string): unknown {
  const stack: Container[] = [];
  let root: unknown;
  let expecting: Expecting = 'value';
  let lastKey = '';

  const add = (v: unknown): void => {
    const top = stack[stack.length - 1];
    if (!top) root = v;
    else if (top.kind === 'array') top.value.push(v);
    // defineProperty: a "__proto__" key must stay data, as with JSON.parse.
    else Object.defineProperty(top.value, top.key!, { value: v, enumerable: true, writable: true, configurable: true });
    expecting = stack.length ? 'after' : 'end';
  };
  const close = (): void => {
    const done = stack.pop();
    if (done) add(done.value);
  };

  visit(
    text,
    {
      onObjectBegin: () => {
        stack.push({ kind: 'object', value: {} });
        expecting = 'property';
      },
      onObjectProperty: (key, offset, _length, line, character) => {
        const top = stack[stack.length - 1] as Extract<Container, { kind: 'object' }>;
        if (Object.prototype.hasOwnProperty.call(top.value, key))
          throw new JsonSyntaxError(`duplicate key "${key}"`, line + 1, character + 1);
        top.key = key;
        lastKey = key;
        expecting = 'colon';
      },
      onObjectEnd: close,
      onArrayBegin: () => {
        stack.push({ kind: 'array', value: [] });
        expecting = 'value';
      },
      onArrayEnd: close,
      onLiteralValue: (v) => add(v),
      onSeparator: (c) => {
        if (c === ':') expecting = 'value';
        else expecting = stack[stack.length - 1]?.kind === 'object' ? 'property' : 'value';
      },
      onError: (code, offset, length) => {
        const container = stack[stack.length - 1]?.kind;
        const reason = describeError(text, code, offset, length, expecting, container, lastKey);
        failAt(text, reason.at ?? offset, reason.message);
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  return root;
}

function describeError(
  text: string,
  code: ParseErrorCode,
  offset: number,
  length: number,
  expecting: Expecting,
  container: Container['kind'] | undefined,
  lastKey: string,
): { message: string; at?: number } {
  const found = describe(text, offset);
  const token = text.slice(offset, offset + length);
  const close = container === 'array' ? ']' : '}';
  switch (code) {
    case Err.UnexpectedEndOfString: {
      // The scanner ends an unclosed string at a raw line break, before it.
      const end = offset + length;
      if (text[end] === '\n' || text[end] === '\r') return { message: controlCharacter, at: end };
      return { message: 'this string is never closed' };
    }
    case Err.InvalidCharacter:
      return { message: controlCharacter, at: offset + Math.max(0, token.search(/[\x00-\x1f]/)) };
    case Err.InvalidEscapeCharacter:
    case Err.InvalidUnicode: {
      const bad = /\\(?:u(?![0-9a-fA-F]{4})|[^"\\/bfnrtu])/.exec(token);
      const at = offset + (bad?.index ?? 0);
      const n = bad?.[0][1] ?? '';
      if (n === 'u') return { message: '\\u must be followed by 4 hex digits', at };
      return {
        message: `invalid escape "\\${n}"${/[A-Za-z]/.test(n) ? ' (in a Windows path, write each backslash twice, or use "/")' : ''}`,
        at,
      };
    }
    case Err.InvalidCommentToken:
      return { message: 'comments are not allowed in JSON' };
    case Err.InvalidNumberFormat:
    case Err.UnexpectedEndOfNumber:
      return { message: `invalid number starting with ${found}` };
    case Err.EndOfFileExpected:
      return { message: `unexpected ${found} after the end of the JSON value` };
    case Err.ColonExpected:
      return { message: `expected ":" after "${lastKey}" but found ${found}` };
    case Err.CommaExpected:
    case Err.CloseBraceExpected:
    case Err.CloseBracketExpected:
      return {
        message: `expected "," or "${code === Err.CloseBracketExpected ? ']' : code === Err.CloseBraceExpected ? '}' : close}" but found ${found}`,
      };
    default:
      break;
  }
  // InvalidSymbol, PropertyNameExpected, ValueExpected: what was wanted says what is wrong.
  if (offset >= text.length && expecting === 'value' && container === undefined)
    return { message: 'the file is empty' };
  switch (expecting) {
    case 'end':
      return { message: `unexpected ${found} after the end of the JSON value` };
    case 'after':
      return { message: `expected "," or "${close}" but found ${found}` };
    case 'colon':
      return { message: `expected ":" after "${lastKey}" but found ${found}` };
    case 'property':
      if (text[offset] === '}' && /,\s*$/.test(text.slice(0, offset))) return { message: 'trailing comma before "}"' };
      return { message: `expected a "quoted" property name but found ${found}` };
    case 'value':
      if (text[offset] === ']' && /,\s*$/.test(text.slice(0, offset))) return { message: 'trailing comma before "]"' };
      if (text[offset] === "'") return { message: 'strings must use double quotes (")' };
      if (/[-0-9]/.test(text[offset] ?? '')) return { message: `invalid number starting with ${found}` };
      return { message: `expected a value but found ${found}` };
  }
}

const controlCharacter =
  'a control character (such as a raw line break or tab) inside a string; write it as \\n or \\t';

function describe(text: string, offset: number): string {
  if (offset >= text.length) return 'the end of the file';
  const c = text[offset]!;
  if (c === '\u0000') return 'a NUL character (is the file UTF-16 without a byte order mark? save it as UTF-8)';
  if (c === '\ufeff') return 'a second byte order mark';
  return JSON.stringify(c);
}
