/**
 * `npm run package`: the zip that gets deployed to the Function App, and the folder it is made
 * from.
 *
 *   node dist/tools/package.js [--out DIR]      (default DIR: .package in the project root)
 *
 * writes DIR/app/ (the app as the Functions host sees it in `/home/site/wwwroot`) and
 * DIR/store-submitter.zip (that folder zipped). The folder holds:
 *   - dist/: the product (the folders `tsconfig.app.json` includes), compiled fresh with that
 *     tsconfig, so a stale or test-only file of the development build can never ship;
 *   - host.json;
 *   - package.json with only what the worker reads (`main`) and the production dependencies;
 *   - node_modules/: the production dependencies of package.json and theirs, copied from the
 *     installed tree (no install, no network): no sandbox, bench, test or CLI-only package.
 * The zip is streamed file by file (lib/zip/writer.ts): nothing large is held in memory.
 */
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { writeZip, type ZipWriterEntry } from '../lib/zip/writer';
import { formatBytes } from '../lib/zip/format';

export const PACKAGE_ZIP_NAME = 'store-submitter.zip';
/** The tsconfig that compiles the product alone (no test, sandbox, bench or CLI code, no jest types). */
export const PRODUCT_TSCONFIG = 'tsconfig.app.json';
/** Files of the project root that the Functions host reads besides the compiled code. */
export const ROOT_FILES = ['host.json', 'package.json'] as const;

interface PackageJson {
  name?: string;
  version?: string;
  description?: string;
  license?: string;
  private?: boolean;
  main?: string;
  type?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface ProductionPackage {
  /** Where it is installed, relative to the project root, with "/": `node_modules/@azure/functions`. */
  dir: string;
  name: string;
  version: string;
}

export interface PackageResult {
  appDir: string;
  zipPath: string;
  files: number;
  unpackedBytes: number;
  zipBytes: number;
  packages: ProductionPackage[];
}

/** The project root: the folder above `from` with package.json and host.json. */
export function projectRoot(from: string = __dirname): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'host.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No project root (package.json + host.json) above ${from}`);
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The folders the product tsconfig compiles: what goes under dist/ in the package. */
export function productFolders(root: string): string[] {
  const tsconfig = readJson<{ include?: string[] }>(join(root, PRODUCT_TSCONFIG));
  const include = tsconfig.include ?? [];
  if (include.length === 0) throw new Error(`${PRODUCT_TSCONFIG} includes nothing`);
  return include;
}

/**
 * The installed packages the app needs at run time: package.json `dependencies`, and for each
 * of them its `dependencies`, its installed `optionalDependencies` and its required peers, found
 * the way Node's `require` finds them (the nearest node_modules upwards, never above the root).
 * The root's own `optionalDependencies` (the Functions Core Tools) and `devDependencies` are
 * development tools and stay out.
 */
export function productionPackages(root: string): ProductionPackage[] {
  const rootPkg = readJson<PackageJson>(join(root, 'package.json'));
  const found = new Map<string, ProductionPackage>();
  const queue: Array<{ name: string; from: string; optional: boolean; neededBy: string }> = Object.keys(
    rootPkg.dependencies ?? {},
  ).map((name) => ({ name, from: root, optional: false, neededBy: 'package.json' }));

  while (queue.length > 0) {
    const { name, from, optional, neededBy } = queue.shift()!;
    const dir = resolveInstalled(root, from, name);
    if (!dir) {
      if (optional) continue;
      throw new Error(
        `${name}, which ${neededBy} needs, is not installed under ${root}: run "npm ci" before "npm run package"`,
      );
    }
    const rel = relative(root, dir).split(sep).join('/');
    if (found.has(rel)) continue;
    const pkg = readJson<PackageJson>(join(dir, 'package.json'));
    found.set(rel, { dir: rel, name, version: pkg.version ?? '' });
    const who = `${name}@${pkg.version ?? '?'}`;
    for (const dep of Object.keys(pkg.dependencies ?? {}))
      queue.push({ name: dep, from: dir, optional: false, neededBy: who });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {}))
      queue.push({ name: dep, from: dir, optional: true, neededBy: who });
    for (const dep of Object.keys(pkg.peerDependencies ?? {})) {
      // An optional peer is used only if the app installs it for itself; a dev tool that
      // happens to be installed (typescript, say) must not ride along.
      if (pkg.peerDependenciesMeta?.[dep]?.optional) continue;
      queue.push({ name: dep, from: dir, optional: false, neededBy: who });
    }
  }
  return [...found.values()].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

function resolveInstalled(root: string, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/** Every file under `dir`, as paths relative to it with "/", sorted (the zip is the same for the same input). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(abs, entry.name), childRel);
      else out.push(childRel);
    }
  };
  walk(dir, '');
  return out.sort();
}

function compileProduct(root: string, outDir: string): void {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, PRODUCT_TSCONFIG), '--outDir', outDir], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(
      `Compiling the product with ${PRODUCT_TSCONFIG} failed:\n${result.stdout}${result.stderr}`.trimEnd(),
    );
  }
}

/** package.json as deployed: what the worker reads (`main`, `type`) and the production dependencies; no scripts, so nothing tries to build it again. */
function deployedPackageJson(root: string): string {
  const pkg = readJson<PackageJson>(join(root, 'package.json'));
  const keep: PackageJson = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    private: pkg.private,
    main: pkg.main,
    type: pkg.type,
    engines: pkg.engines,
    dependencies: pkg.dependencies,
  };
  return `${JSON.stringify(keep, null, 2)}\n`;
}

export async function buildPackage(options: {
  root?: string;
  outDir?: string;
  log?: (line: string) => void;
}): Promise<PackageResult> {
  const root = options.root ?? projectRoot();
  const outDir = resolve(options.outDir ?? join(root, '.package'));
  const log = options.log ?? (() => {});
  const appDir = join(outDir, 'app');
  const zipPath = join(outDir, PACKAGE_ZIP_NAME);
  rmSync(appDir, { recursive: true, force: true });
  rmSync(zipPath, { force: true });
  mkdirSync(appDir, { recursive: true });

  log(`compiling ${productFolders(root).join(', ')} with ${PRODUCT_TSCONFIG}`);
  compileProduct(root, join(appDir, 'dist'));

  cpSync(join(root, 'host.json'), join(appDir, 'host.json'));
  writeFileSync(join(appDir, 'package.json'), deployedPackageJson(root));

  const packages = productionPackages(root);
  log(`copying ${packages.length} production packages`);
  for (const p of packages) {
    const src = join(root, p.dir);
    const nested = join(src, 'node_modules');
    // A package's own node_modules holds other packages; those are copied when they are reached.
    cpSync(src, join(appDir, p.dir), {
      recursive: true,
      dereference: true,
      filter: (path) => path !== nested,
    });
  }

  const files = listFiles(appDir);
  let unpackedBytes = 0;
  const entries: ZipWriterEntry[] = files.map((name) => {
    const abs = join(appDir, name);
    const size = statSync(abs).size;
    unpackedBytes += size;
    return { name, size, compress: true, data: () => createReadStream(abs) };
  });
  log(`zipping ${files.length} files (${formatBytes(unpackedBytes)})`);
  const { bytes: zipBytes } = await writeZip(entries, createWriteStream(zipPath));
  return { appDir, zipPath, files: files.length, unpackedBytes, zipBytes, packages };
}

function parseArgs(argv: string[]): { outDir?: string } {
  const args: { outDir?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--out') {
      args.outDir = argv[++i];
      if (!args.outDir) throw new Error('--out needs a folder');
    } else if (flag === '--help' || flag === '-h') {
      process.stdout.write('Usage: npm run package [-- --out DIR]\n');
      process.exit(0);
    } else {
      throw new Error(`Unknown option ${flag} (try --help)`);
    }
  }
  return args;
}

if (require.main === module) {
  (async () => {
    const args = parseArgs(process.argv.slice(2));
    const root = projectRoot();
    const result = await buildPackage({ root, outDir: args.outDir, log: (l) => process.stderr.write(`${l}\n`) });
    const rel = (p: string): string => relative(process.cwd(), p) || '.';
    process.stdout.write(
      [
        `Package: ${rel(result.zipPath)}`,
        `  zip       ${formatBytes(result.zipBytes)} (${result.zipBytes} bytes)`,
        `  unpacked  ${formatBytes(result.unpackedBytes)} in ${result.files} files`,
        `  packages  ${result.packages.length} production packages`,
        `  folder    ${rel(result.appDir)} (what the zip holds)`,
        '',
      ].join('\n'),
    );
  })().catch((e: unknown) => {
    process.stderr.write(`npm run package: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
