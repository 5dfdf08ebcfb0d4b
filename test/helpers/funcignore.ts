/**
 * Which files `func azure functionapp publish` uploads, decided the way Core Tools decides it:
 * `FileSystemHelpers.GetLocalFiles` (skips `.git` and `.vscode` folders and the files
 * `.funcignore`, `.gitignore`, `local.settings.json`, `project.lock.json`) and
 * `GitIgnoreParser.Accepts` (src/Cli/func/Common in Azure/azure-functions-core-tools). That
 * parser is a port of codemix/gitignore-parser with a `\b` added, not git's own matching: every
 * pattern is anchored at the root, `*` never crosses a "/", `**` crosses anything, and a path is
 * accepted when any "!" pattern matches it, whatever the order of the lines. The npm package of
 * the original lacks the `\b` and so accepts more than func does; a double must not be kinder.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const SKIPPED_DIRS = ['.git', '.vscode'];
const SKIPPED_FILES = ['.funcignore', '.gitignore', 'local.settings.json', 'project.lock.json'];

function prepare(pattern: string): string {
  return pattern
    .replace(/[-[\]/{}()+?.\\^$|]/g, '\\$&')
    .replace(/\*\*/g, '(.+)')
    .replace(/\*/g, '([^\\/]+)');
}

export function compileFuncignore(content: string): (path: string) => boolean {
  const positive: string[] = [];
  const negative: string[] = [];
  for (const raw of content.split('\n')) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const isNegative = line.startsWith('!');
    if (isNegative) line = line.slice(1);
    if (line.startsWith('/')) line = line.slice(1);
    (isNegative ? negative : positive).push(line);
  }
  const toRegex = (list: string[]): RegExp =>
    list.length > 0 ? new RegExp(`^((${[...list].sort().map(prepare).join(')|(')}))\\b`) : /$^/;
  const pos = toRegex(positive);
  const neg = toRegex(negative);
  return (path: string) => neg.test(path) || !pos.test(path);
}

/** The files under `root` that func would publish, relative with "/"; `skipDir` prunes folders the caller lists separately. */
export function publishedFiles(
  root: string,
  accepts: (path: string) => boolean,
  skipDir: (rel: string) => boolean,
): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (SKIPPED_DIRS.includes(entry.name) || skipDir(childRel)) continue;
        walk(join(abs, entry.name), childRel);
      } else if (!SKIPPED_FILES.includes(entry.name) && accepts(childRel)) out.push(childRel);
    }
  };
  walk(root, '');
  return out.sort();
}
