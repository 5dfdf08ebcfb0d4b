/**
 * The JSON Schema in submission.schema.json is both what editors use to check and complete
 * submission.json and what the submitter validates with; compiled once, on first use. Ajv's
 * errors are turned into one line per problem, naming the field as a dotted path.
 */
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { InputProblem } from '../errors';
import schemaJson from './submission.schema.json';

export const SUBMISSION_SCHEMA: Readonly<Record<string, unknown>> = schemaJson;

const KEY = 'submission.schema.json';
const SUBMISSION_KINDS = ['appSubmission', 'flightSubmission', 'addonSubmission'].map((def) => {
  const d = (schemaJson.$defs as Record<string, { title?: string; properties?: object }>)[def]!;
  return { title: d.title ?? def, fields: Object.keys(d.properties ?? {}) };
});
let compiled: { manifest: ValidateFunction; options: ValidateFunction } | undefined;

function validators(): { manifest: ValidateFunction; options: ValidateFunction } {
  if (!compiled) {
    // strictTypes/strictRequired would demand `type` in every if-branch and properties next to
    // every oneOf `required`; the schema stays readable without them. Unknown keywords stay errors.
    const ajv = new Ajv2020({
      allErrors: true,
      verbose: true,
      strict: true,
      strictTypes: false,
      strictRequired: false,
      allowUnionTypes: true,
    });
    addFormats(ajv);
    // Annotation read by VS Code and by `describe` below; it does not validate anything.
    ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
    ajv.addSchema(schemaJson, KEY);
    compiled = { manifest: ajv.getSchema(KEY)!, options: ajv.getSchema(`${KEY}#/$defs/options`)! };
  }
  return compiled;
}

/** Every schema problem of a parsed manifest. */
export function manifestSchemaProblems(doc: unknown, file: string): InputProblem[] {
  const validate = validators().manifest;
  return validate(doc) ? [] : translate(validate.errors ?? [], file, '');
}

/** Every problem of options given outside the manifest (the start request), named under `options.`. */
export function optionsSchemaProblems(options: unknown, file: string, prefix = 'options'): InputProblem[] {
  const validate = validators().options;
  return validate(options) ? [] : translate(validate.errors ?? [], file, prefix);
}

function translate(errors: ErrorObject[], file: string, prefix: string): InputProblem[] {
  // A failed oneOf reports each branch's own failure too; only the oneOf's message helps.
  const choices = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    if (e.schemaPath.includes('/propertyNames/')) continue; // reported by the propertyNames error itself
    if (
      choices.some((c) => c !== e && c.instancePath === e.instancePath && e.schemaPath.startsWith(`${c.schemaPath}/`))
    )
      continue;
    const d = describe(e, prefix);
    const key = `${d.field}\u0000${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ file, field: d.field || undefined, message: d.message });
  }
  return problems;
}

type Schema = {
  title?: string;
  errorMessage?: string;
  properties?: Record<string, { not?: unknown }>;
};

function describe(e: ErrorObject, prefix: string): { field: string; message: string } {
  const at = pointerToPath(e.instancePath, prefix);
  const parent = (e.parentSchema ?? {}) as Schema;
  const own = parent.errorMessage;
  const params = e.params as Record<string, unknown>;
  const got = ` (got ${show(e.data)})`;
  switch (e.keyword) {
    case 'required':
      return { field: join(at, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      return { field: join(at, name), message: unknownField(name, parent) };
    }
    case 'propertyNames':
      return {
        field: join(at, String(params.propertyName)),
        message: (e.schema as Schema | undefined)?.errorMessage ?? 'is not an allowed key here',
      };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return { field: at, message: `${own ?? `must be one of ${allowed}`}${got}` };
    }
    case 'const':
      return { field: at, message: `${own ?? `must be ${JSON.stringify(params.allowedValue)}`}${got}` };
    case 'type':
      return { field: at, message: `must be ${article(String(params.type))}${got}` };
    case 'pattern':
    case 'format':
      return {
        field: at,
        message: `${own ?? `must match ${e.keyword} ${JSON.stringify(params.pattern ?? params.format)}`}${got}`,
      };
    case 'not':
      return { field: at, message: own ?? 'is not allowed here' };
    case 'oneOf':
    case 'anyOf':
      return { field: at, message: own ?? e.message ?? 'is not valid' };
    case 'maxItems':
      return {
        field: at,
        message: `has ${(e.data as unknown[]).length} items; at most ${String(params.limit)} are allowed`,
      };
    case 'minItems':
      return { field: at, message: `needs at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}` };
    case 'minLength':
      return {
        field: at,
        message: params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`,
      };
    case 'minimum':
    case 'maximum':
      return {
        field: at,
        message: `must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}${got}`,
      };
    default:
      return { field: at, message: own ?? e.message ?? 'is not valid' };
  }
}

function unknownField(name: string, parent: Schema): string {
  const known = Object.entries(parent.properties ?? {})
    .filter(([, s]) => s.not === undefined)
    .map(([k]) => k);
  const near =
    known.find((k) => k.toLowerCase() === name.toLowerCase()) ??
    known.find((k) => editDistance(k.toLowerCase(), name.toLowerCase()) <= 2);
  const what =
    parent.title === 'options' ? 'is not a known option' : `is not a field of ${parent.title ?? 'this object'}`;
  if (near) return `${what}; did you mean "${near}"?`;
  const owners = SUBMISSION_KINDS.filter((k) => k.title !== parent.title && k.fields.includes(name)).map((k) =>
    k.title.replace(/^an? /, ''),
  );
  if (owners.length && parent.title?.endsWith(' submission'))
    return `${what}; it belongs to ${owners.map((o) => `${o}s`).join(' and ')} (check target.kind)`;
  return known.length && known.length <= 12 ? `${what}; known: ${known.join(', ')}` : what;
}

/** "/submission/listings/en-us/baseListing/images/0" → "submission.listings.en-us.baseListing.images[0]" */
export function pointerToPath(pointer: string, prefix = ''): string {
  let out = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out = join(out, seg);
  }
  return out;
}

export function join(path: string, key: string): string {
  if (/^\d+$/.test(key)) return `${path}[${key}]`;
  const safe = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  if (!path) return safe.startsWith('"') ? `[${safe}]` : safe;
  return safe.startsWith('"') ? `${path}[${safe}]` : `${path}.${safe}`;
}

function article(type: string): string {
  return type
    .split(',')
    .map((t) => (t === 'object' || t === 'array' || t === 'integer' ? `an ${t}` : t === 'null' ? 'null' : `a ${t}`))
    .join(' or ');
}

function show(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v) ?? typeof v;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
