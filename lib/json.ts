/** A JSON object (not an array, not null): what a parsed document's objects are checked with. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
