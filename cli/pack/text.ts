/**
 * Listing text files (title.txt, keywords.txt, an image's caption): read, decoded like the
 * manifest, and held to the Store's limits for the field (convention.ts), which the submission
 * API itself only enforces after a commit.
 */
import { decodeText } from '../../lib/manifest';
import type { TextField } from './convention';
import type { Findings } from './findings';
import type { FolderSource } from './scan';

/** Text files are a few KiB; a larger one was put there by mistake. */
export const MAX_TEXT_BYTES = 256 * 1024;

/** The value of the field a text file stands for, or undefined when it has problems (reported). */
export async function readListingText(
  source: FolderSource,
  findings: Findings,
  fileRel: string,
  spec: TextField,
): Promise<string | string[] | undefined> {
  const size = await source.size(fileRel);
  if (size > MAX_TEXT_BYTES) {
    findings.problem(fileRel, `is ${size} bytes; listing text files are small (at most ${MAX_TEXT_BYTES / 1024} KiB)`);
    return undefined;
  }
  const decoded = decodeText((await source.read(fileRel)) ?? Buffer.alloc(0));
  if ('error' in decoded) {
    findings.problem(fileRel, decoded.error);
    return undefined;
  }
  const checked = checkListingText(decoded.text, spec);
  for (const message of checked.problems) findings.problem(fileRel, message);
  return checked.value;
}

/**
 * A text file's content as the field's value, against the field's limits: the trimmed text, or
 * one item per non-blank line. A value only when there is no problem.
 */
export function checkListingText(content: string, spec: TextField): { value?: string | string[]; problems: string[] } {
  const text = content.replace(/\r\n?/g, '\n');
  if (spec.kind === 'text') {
    const value = text.trim();
    if (!value)
      return { problems: [`is empty; write the ${spec.field}, or delete the file to keep the published one`] };
    if (spec.maxLength !== undefined && value.length > spec.maxLength)
      return { problems: [`is ${value.length} characters long; the Store takes at most ${spec.maxLength}`] };
    return { value, problems: [] };
  }
  const lines = text.split('\n').map((line, i) => ({ line: line.trim(), n: i + 1 }));
  const items = lines.filter((l) => l.line !== '');
  const item = spec.item ?? 'item';
  if (!items.length)
    return { problems: [`is empty; write one ${item} per line, or delete the file to keep the published ones`] };
  const problems: string[] = [];
  if (spec.maxItems !== undefined && items.length > spec.maxItems)
    problems.push(`has ${items.length} ${item}s (one per line); the Store takes at most ${spec.maxItems}`);
  for (const { line, n } of items) {
    if (spec.maxLength !== undefined && line.length > spec.maxLength)
      problems.push(
        `line ${n} is ${line.length} characters long; the Store takes at most ${spec.maxLength} per ${item}`,
      );
  }
  if (spec.maxWords !== undefined) {
    const words = items.reduce((sum, { line }) => sum + line.split(/\s+/).length, 0);
    if (words > spec.maxWords)
      problems.push(`has ${words} words in all; the Store takes at most ${spec.maxWords} across all ${item}s`);
  }
  return problems.length ? { problems } : { value: items.map((l) => l.line), problems };
}
