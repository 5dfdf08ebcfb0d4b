/** Release folders, PNGs and ways to run the CLI (in-process, or as the built bin in a child process). */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pngOf } from '../helpers/files';
import { run } from '../../cli/main';
import { readReleaseFolder } from '../../cli/pack';
import { InputError } from '../../lib/errors';

const REPO = resolve(__dirname, '..', '..');
export const CLI = join(REPO, 'dist', 'cli', 'main.js');

export { pngOf } from '../helpers/files';

export const PNG = pngOf(2, 2);

/** The problems `readReleaseFolder` reports, as "file field: message" lines relative to the folder's parent. */
export async function problemsOf(dir: string, label: string): Promise<string[]> {
  const err = await readReleaseFolder(dir, label).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).code).toBe('InvalidFolder');
  return (err as InputError).problems.map((p) => `${p.file}${p.field ? ` ${p.field}` : ''}: ${p.message}`);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cli-${prefix}-`));
}

/** Writes `files` (relative path → content; objects as JSON) into a new folder `name` under `parent`. */
export function makeFolder(parent: string, name: string, files: Record<string, string | Buffer | object>): string {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      Buffer.isBuffer(content) || typeof content === 'string' ? content : JSON.stringify(content, null, 2),
    );
  }
  return dir;
}

export function fakePackage(size = 4096): Buffer {
  return randomBytes(size);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process, output captured. */
export async function runCli(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        add(chunk.toString());
        cb();
      },
    });
  const code = await run(args, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
  });
  return { code, stdout, stderr };
}

/** Runs the built bin as CI would: a child process, its exit code, nothing inherited from a developer's shell. */
export function runCliProcess(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(SUBMISSIONS_|STORE_SUBMITTER_)/.test(k)),
  ) as Record<string, string>;
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...clean, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** The child-process tests run dist/cli: refuse a build older than its sources. */
export function ensureCliBuilt(): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  for (const file of [...walk(join(REPO, 'cli')), ...walk(join(REPO, 'lib'))]) {
    const built = join(REPO, 'dist', relative(REPO, file)).replace(/\.ts$/, '.js');
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(file).mtimeMs) {
      throw new Error(
        `${relative(REPO, built)} is missing or older than its source: run \`npx tsc -p tsconfig.json\` first`,
      );
    }
  }
}
