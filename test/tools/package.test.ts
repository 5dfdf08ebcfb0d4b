/**
 * `npm run package`: the deployable zip holds the product and its production dependencies and
 * nothing else, the app in it loads as the Node worker loads it, and `.funcignore` makes
 * `func azure functionapp publish` upload the same files.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Reader, Uint8ArrayWriter, ZipReader, configure } from '@zip.js/zip.js';
import {
  buildPackage,
  listFiles,
  productFolders,
  projectRoot,
  ROOT_FILES,
  type PackageResult,
} from '../../tools/package';
import { compileFuncignore, publishedFiles } from '../helpers/funcignore';
import { loadApp } from '../helpers/app';

configure({ useWebWorkers: false });

const root = projectRoot(__dirname);

class FileReader extends Reader<FileHandle> {
  constructor(
    private readonly file: FileHandle,
    size: number,
  ) {
    super(file);
    this.size = size;
  }

  override async readUint8Array(index: number, length: number): Promise<Uint8Array> {
    const out = Buffer.alloc(Math.max(0, Math.min(length, this.size - index)));
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await this.file.read(out, done, out.length - done, index + done);
      if (bytesRead === 0) throw new Error('zip ended early');
      done += bytesRead;
    }
    return out;
  }
}

interface ZipFile {
  name: string;
  crc: number;
  size: number;
}

/**
 * The zip's files as a third-party reader sees them: names, CRC-32 and sizes from the central
 * directory, and the decompressed bytes of the entries `read` selects (small files only).
 */
async function readZip(
  path: string,
  read: (name: string) => boolean,
): Promise<{ files: ZipFile[]; data: Map<string, Buffer> }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const zip = new ZipReader(new FileReader(file, size), { useWebWorkers: false });
    const files: ZipFile[] = [];
    const data = new Map<string, Buffer>();
    for (const entry of await zip.getEntries()) {
      if (entry.directory) continue;
      files.push({ name: entry.filename, crc: entry.signature ?? -1, size: entry.uncompressedSize });
      if (read(entry.filename)) data.set(entry.filename, Buffer.from(await entry.getData(new Uint8ArrayWriter())));
    }
    await zip.close();
    return { files: files.sort((a, b) => (a.name < b.name ? -1 : 1)), data };
  } finally {
    await file.close();
  }
}

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
}

describe('npm run package', () => {
  let work: string;
  let result: PackageResult;
  let zip: Awaited<ReturnType<typeof readZip>>;
  let entries: string[];
  let app: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'store-submitter-package-'));
    result = await buildPackage({ root, outDir: join(work, 'out') });
    app = result.appDir;
    zip = await readZip(result.zipPath, (name) => !name.startsWith('node_modules/'));
    entries = zip.files.map((f) => f.name);
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the compiled product, host.json, package.json and node_modules, and nothing else', () => {
    const allowed = [...ROOT_FILES];
    const prefixes = [...productFolders(root).map((f) => `dist/${f}/`), 'node_modules/'];
    const stray = entries.filter(
      (e) => !allowed.includes(e as (typeof ROOT_FILES)[number]) && !prefixes.some((p) => e.startsWith(p)),
    );
    expect(stray).toEqual([]);
    for (const folder of productFolders(root)) expect(entries.some((e) => e.startsWith(`dist/${folder}/`))).toBe(true);
    // the schema validation reads at run time comes along with the code
    expect(entries).toContain('dist/lib/manifest/submission.schema.json');
    expect(entries.filter((e) => !e.startsWith('node_modules/') && e.endsWith('.ts'))).toEqual([]);
  });

  it('has no file of the test, sandbox, bench, CLI or any other non-product folder', () => {
    const product = new Set(productFolders(root));
    const others = readdirSync(root, { withFileTypes: true })
      .filter(
        (d) =>
          d.isDirectory() &&
          !product.has(d.name) &&
          !['node_modules', 'dist'].includes(d.name) &&
          !d.name.startsWith('.'),
      )
      .map((d) => d.name);
    expect(others).toEqual(expect.arrayContaining(['test', 'sandbox', 'bench', 'cli']));
    const inZip = new Set(entries);
    const leaked: string[] = [];
    for (const folder of others) {
      expect(entries.filter((e) => e.startsWith(`${folder}/`) || e.startsWith(`dist/${folder}/`))).toEqual([]);
      for (const file of listFiles(join(root, folder)).map((f) => `${folder}/${f}`)) {
        const compiled = file.replace(/\.ts$/, '.js');
        for (const candidate of [file, `dist/${file}`, `dist/${compiled}`, `dist/${compiled}.map`])
          if (inZip.has(candidate)) leaked.push(candidate);
      }
    }
    expect(leaked).toEqual([]);
  });

  it('carries exactly the production packages of the lockfile: no development, CLI-only or optional tool', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockEntry>;
    };
    const installed = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'));
    const production = installed.filter(([, e]) => !e.dev && !e.devOptional && !e.optional).map(([p]) => p);
    const notProduction = installed.filter(([, e]) => e.dev || e.devOptional).map(([p]) => p);
    const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const tools = Object.keys(rootPkg.optionalDependencies ?? {}).map((n) => `node_modules/${n}`);
    expect(notProduction).toEqual(expect.arrayContaining(['node_modules/jest', 'node_modules/commander']));

    const inZip = new Set(entries);
    expect(production.filter((p) => !inZip.has(`${p}/package.json`))).toEqual([]);
    expect([...notProduction, ...tools].filter((p) => inZip.has(`${p}/package.json`))).toEqual([]);
    expect(result.packages.map((p) => p.dir).sort()).toEqual([...production].sort());

    const deployed = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(deployed.devDependencies).toBeUndefined();
    expect(deployed.scripts).toBeUndefined();
    expect(deployed.main).toBe((rootPkg as unknown as { main: string }).main);
  });

  it('is the folder it was made from, byte for byte (azd deploys that folder; the app is loaded from it below)', () => {
    expect(listFiles(app)).toEqual(entries);
    expect(result.files).toBe(entries.length);
    const differing = zip.files.filter((f) => {
      const bytes = readFileSync(join(app, f.name));
      return bytes.length !== f.size || crc32(bytes) !== f.crc;
    });
    expect(differing).toEqual([]);
    // and the entries decompress to those bytes (the CRC alone would not show a broken deflate stream)
    expect(zip.data.size).toBeGreaterThan(0);
    for (const [name, bytes] of zip.data) expect(bytes.equals(readFileSync(join(app, name)))).toBe(true);
  });

  it('loads as the worker loads it: the main glob resolves and every function of the app registers', () => {
    const fromPackage = loadApp(app);
    const fromProject = loadApp(root);
    expect(fromPackage.files.length).toBeGreaterThan(0);
    expect(fromPackage.files).toEqual(fromProject.files);
    expect(fromPackage.functions.length).toBeGreaterThan(0);
    expect(fromPackage.functions).toEqual(fromProject.functions);
  });

  it('.funcignore makes func azure functionapp publish upload the same app', () => {
    const accepts = compileFuncignore(readFileSync(join(root, '.funcignore'), 'utf8'));
    // node_modules goes as it is (after npm prune --omit=dev); the check above covers its content.
    expect(accepts('node_modules/durable-functions/package.json')).toBe(true);
    const published = publishedFiles(root, accepts, (rel) => rel === 'node_modules');
    // A dist/ file whose source is gone is a leftover of an older local build, not the project's.
    const current = published.filter((f) => {
      const m = /^dist\/(.+?)(\.js|\.js\.map)?$/.exec(f);
      if (!m) return true;
      return existsSync(join(root, m[2] ? `${m[1]}.ts` : m[1]!));
    });
    expect(current).toEqual(entries.filter((e) => !e.startsWith('node_modules/')));
  });
});
