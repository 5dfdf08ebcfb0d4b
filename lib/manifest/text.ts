/**
 * Turning manifest bytes into text and JSON with errors a person can act on: where (line and
 * column) and what (a bad byte, a missing comma, a duplicate key).
 *
 * UTF-16 with a byte order mark is accepted and decoded: Windows PowerShell 5 writes it with
 * `Out-File` and `>`, and refusing a file for the editor's default encoding helps nobody.
 */

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

/**
 * A strict RFC 8259 parser that says where it failed and refuses duplicate keys (JSON.parse
 * would silently keep the last one, so a repeated "target" could submit to the wrong product).
 */
export function parseJson(text: string): unknown {
  return new Parser(text).document();
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  document(): unknown {
    this.ws();
    if (this.i >= this.s.length) this.fail('the file is empty');
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail(`unexpected ${this.describe()} after the end of the JSON value`);
    return v;
  }

  private value(): unknown {
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    if (c === "'") this.fail('strings must use double quotes (")');
    return this.fail(`expected a value but found ${this.describe()}`);
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') {
        this.fail(
          this.s[this.i] === '}'
            ? 'trailing comma before "}"'
            : `expected a "quoted" property name but found ${this.describe()}`,
        );
      }
      const keyLine = this.position();
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        throw new JsonSyntaxError(`duplicate key "${key}"`, keyLine.line, keyLine.column);
      }
      this.ws();
      if (this.s[this.i] !== ':') this.fail(`expected ":" after "${key}" but found ${this.describe()}`);
      this.i++;
      this.ws();
      // defineProperty: a "__proto__" key must stay data, as with JSON.parse.
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === '}') {
        this.i++;
        return out;
      }
      this.fail(`expected "," or "}" but found ${this.describe()}`);
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] === ']') this.fail('trailing comma before "]"');
      out.push(this.value());
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') {
        this.i++;
        return out;
      }
      this.fail(`expected "," or "]" but found ${this.describe()}`);
    }
  }

  private string(): string {
    const start = this.i;
    this.i++;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) {
        this.i = start;
        this.fail('this string is never closed');
      }
      if (c === '"') break;
      if (c < ' ')
        this.fail('a control character (such as a raw line break or tab) inside a string; write it as \\n or \\t');
      if (c === '\\') {
        const n = this.s[this.i + 1];
        if (n === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6)))
            this.fail('\\u must be followed by 4 hex digits');
          this.i += 6;
          continue;
        }
        if (n === undefined || !'"\\/bfnrt'.includes(n)) {
          this.fail(
            `invalid escape "\\${n ?? ''}"${n !== undefined && /[A-Za-z]/.test(n) ? ' (in a Windows path, write each backslash twice, or use "/")' : ''}`,
          );
        }
        this.i += 2;
        continue;
      }
      this.i++;
    }
    this.i++;
    return JSON.parse(this.s.slice(start, this.i)) as string;
  }

  private number(): number {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail(`invalid number starting with ${this.describe()}`);
    this.i += m[0].length;
    return Number(m[0]);
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }

  private describe(): string {
    if (this.i >= this.s.length) return 'the end of the file';
    const c = this.s[this.i]!;
    if (c === '\u0000') return 'a NUL character (is the file UTF-16 without a byte order mark? save it as UTF-8)';
    if (c === '\ufeff') return 'a second byte order mark';
    return JSON.stringify(c);
  }

  private position(): { line: number; column: number } {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < this.i; k++) {
      if (this.s[k] === '\n') {
        line++;
        lineStart = k + 1;
      }
    }
    return { line, column: this.i - lineStart + 1 };
  }

  private fail(reason: string): never {
    const { line, column } = this.position();
    throw new JsonSyntaxError(reason, line, column);
  }
}
