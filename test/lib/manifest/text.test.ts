import * as jsonc from 'jsonc-parser';
import {
  JsonLimitError,
  JsonSyntaxError,
  MAX_JSON_DEPTH,
  MAX_JSON_VALUES,
  parseJson,
} from '../../../lib/manifest/text';

// The enums exist at run time too; the type checker only lets const enums be read by member.
const runtime = jsonc as unknown as Record<'SyntaxKind' | 'ParseErrorCode', Record<string, number>>;
const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

function errorOf(text: string): JsonSyntaxError {
  try {
    parseJson(text);
  } catch (e) {
    expect(e).toBeInstanceOf(JsonSyntaxError);
    return e as JsonSyntaxError;
  }
  throw new Error(`parsed: ${text.slice(0, 60)}`);
}

describe('parseJson (jsonc-parser underneath)', () => {
  test('the token kinds and error codes it names are those of the installed jsonc-parser', () => {
    // text.ts writes the const enums' values out (isolated modules cannot read them); a new
    // jsonc-parser that renumbered them must fail here, not mis-parse manifests.
    expect(runtime.SyntaxKind).toMatchObject({
      OpenBraceToken: 1,
      CloseBraceToken: 2,
      OpenBracketToken: 3,
      CloseBracketToken: 4,
      NullKeyword: 7,
      TrueKeyword: 8,
      FalseKeyword: 9,
      StringLiteral: 10,
      NumericLiteral: 11,
      EOF: 17,
    });
    expect(runtime.ParseErrorCode).toMatchObject({
      InvalidNumberFormat: 2,
      ColonExpected: 5,
      CommaExpected: 6,
      CloseBraceExpected: 7,
      CloseBracketExpected: 8,
      EndOfFileExpected: 9,
      InvalidCommentToken: 10,
      UnexpectedEndOfString: 12,
      UnexpectedEndOfNumber: 13,
      InvalidUnicode: 14,
      InvalidEscapeCharacter: 15,
      InvalidCharacter: 16,
    });
  });

  test('reads what JSON.parse reads, and keeps "__proto__" as data', () => {
    const text = '{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"], "__proto__": {"polluted": 1}, "b": {}}';
    const value = parseJson(text) as Record<string, unknown>;
    expect(value).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('refuses what RFC 8259 does not allow, saying where', () => {
    expect(errorOf('{"a": 1, // note\n}').message).toBe(
      'invalid JSON at line 1, column 10: comments are not allowed in JSON',
    );
    expect(errorOf('{"a": 1,\n}').message).toBe('invalid JSON at line 2, column 1: trailing comma before "}"');
    expect(errorOf('{"a": 01}').message).toMatch(/line 1, column 8: expected "," or "}" but found "1"/);
    expect(errorOf('{"a": "x\ny"}').message).toMatch(/line 1, column 9: a control character/);
    expect(errorOf('{"a": 1,\n "a": 2}')).toMatchObject({ reason: 'duplicate key "a"', line: 2, column: 2 });
  });

  test(`nesting is bounded at ${MAX_JSON_DEPTH} levels, before anything recurses`, () => {
    expect(() => parseJson(nested(MAX_JSON_DEPTH))).not.toThrow();
    const e = errorOf(nested(MAX_JSON_DEPTH + 1));
    expect(e).toBeInstanceOf(JsonLimitError);
    expect(e.message).toBe(
      `nests deeper than ${MAX_JSON_DEPTH} levels; the limit is ${MAX_JSON_DEPTH} (a manifest needs fewer than 10) (at line 1, column ${MAX_JSON_DEPTH + 1})`,
    );
    // Deep enough to overflow any recursive reader: still a clear error, not a RangeError.
    expect(errorOf(nested(200_000))).toBeInstanceOf(JsonLimitError);
  });

  test(`values are bounded at ${MAX_JSON_VALUES.toLocaleString('en-US')}`, () => {
    const values = (n: number): string => `[${Array.from({ length: n - 1 }, () => '0').join(',')}]`;
    expect(() => parseJson(values(MAX_JSON_VALUES))).not.toThrow();
    const e = errorOf(values(MAX_JSON_VALUES + 1));
    expect(e).toBeInstanceOf(JsonLimitError);
    expect(e.message).toMatch(/^holds more than 100,000 JSON values; the limit is 100,000 \(at line 1, column \d+\)$/);
  });
});
