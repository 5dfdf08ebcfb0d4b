import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The subset of glob syntax a Functions `main` entry uses (`*`, `**`, `?`, `{a,b}`), so the
 * host needs no glob library of its own. Patterns are relative to the app folder and use `/`.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  let i = 0;
  let braceDepth = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more whole folders; a trailing `**` matches anything.
        if (pattern[i + 2] === '/') {
          re += '(?:[^/]+/)*';
          i += 3;
        } else {
          re += '.*';
          i += 2;
        }
        continue;
      }
      re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      braceDepth++;
      re += '(?:';
    } else if (c === '}' && braceDepth > 0) {
      braceDepth--;
      re += ')';
    } else if (c === ',' && braceDepth > 0) re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
    i++;
  }
  return new RegExp(`^${re}$`);
}

export function isGlob(pattern: string): boolean {
  return /[*?{]/.test(pattern);
}

/** Files under `root` (node_modules skipped) whose relative path matches, sorted. */
export function globFiles(root: string, pattern: string): string[] {
  const matcher = globToRegExp(pattern.replace(/^\.\//, ''));
  const found: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(dir, entry.name), relPath);
      else if (matcher.test(relPath)) found.push(relPath);
    }
  };
  walk(root, '');
  return found.sort();
}
