import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface TlsMaterial {
  /** PEM of the local CA: what a client trusts (NODE_EXTRA_CA_CERTS). */
  caCertPath: string;
  /** PEM of the server certificate for 127.0.0.1 and localhost, signed by the CA. */
  certPath: string;
  keyPath: string;
}

const CA_FILE = 'ca.crt';
const CERT_FILE = 'server.crt';
const KEY_FILE = 'server.key';
/** Regenerate when the server certificate has less than this left, so a long sandbox session never crosses its expiry. */
const MIN_REMAINING_MS = 7 * 24 * 3600 * 1000;
const LOCK_STALE_MS = 60_000;

/** The repository root: the nearest folder above this file holding package.json (works from sources and from dist/). */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/**
 * A local CA and a server certificate for 127.0.0.1 and localhost, reused when the files in `dir`
 * are present and still valid. Synchronous because launchers call it before anything else starts;
 * generation runs in a child process since the `selfsigned` package is async-only.
 * Several processes (jest workers, the sandbox launcher) may call it at once: a lock folder serialises them.
 */
export function ensureTlsMaterial(dir: string = join(repoRoot(), '.sandbox', 'tls')): TlsMaterial {
  const absolute = resolve(dir);
  const material: TlsMaterial = {
    caCertPath: join(absolute, CA_FILE),
    certPath: join(absolute, CERT_FILE),
    keyPath: join(absolute, KEY_FILE),
  };
  if (isValid(material)) return material;
  mkdirSync(absolute, { recursive: true });
  const lock = join(absolute, '.lock');
  acquire(lock);
  try {
    if (!isValid(material)) generate(absolute, material);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return material;
}

function isValid(m: TlsMaterial): boolean {
  try {
    const ca = new X509Certificate(readFileSync(m.caCertPath));
    const cert = new X509Certificate(readFileSync(m.certPath));
    const key = createPrivateKey(readFileSync(m.keyPath));
    const now = Date.now();
    if (!ca.ca || Date.parse(ca.validTo) - now < MIN_REMAINING_MS) return false;
    if (Date.parse(cert.validTo) - now < MIN_REMAINING_MS || Date.parse(cert.validFrom) > now) return false;
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !cert.checkPrivateKey(key)) return false;
    return cert.checkIP('127.0.0.1') !== undefined && cert.checkHost('localhost') !== undefined;
  } catch {
    return false;
  }
}

function acquire(lock: string): void {
  const deadline = Date.now() + 2 * LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        // A crashed holder leaves the folder behind; take it over once it is clearly abandoned.
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* removed meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`could not lock ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

/** Runs in a child `node`: selfsigned is promise-based and this module's API is synchronous. */
const GENERATOR = `
const selfsigned = require(process.argv[1]);
(async () => {
  const now = new Date(Date.now() - 60000);
  const years = (n) => new Date(now.getTime() + n * 365 * 24 * 3600 * 1000);
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'Store submitter sandbox CA' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate: now, notAfterDate: years(5),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate: now, notAfterDate: years(2),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  process.stdout.write(JSON.stringify({ ca: ca.cert, cert: server.cert, key: server.private }));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

function generate(dir: string, m: TlsMaterial): void {
  const result = spawnSync(process.execPath, ['-e', GENERATOR, require.resolve('selfsigned')], {
    encoding: 'utf8',
    timeout: 60_000,
    // The parent's NODE_OPTIONS (e.g. jest's) must not leak into a plain generator run.
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (result.status !== 0) throw new Error(`TLS material generation failed: ${result.stderr || result.error?.message}`);
  const pems = JSON.parse(result.stdout) as { ca: string; cert: string; key: string };
  // The key is written first and the CA last, so a reader never pairs a new CA with an old certificate unnoticed.
  const write = (path: string, text: string, mode: number): void => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, path);
  };
  write(m.keyPath, pems.key, 0o600);
  write(m.certPath, pems.cert, 0o644);
  write(m.caCertPath, pems.ca, 0o644);
  if (!isValid(m)) throw new Error(`generated TLS material in ${dir} does not verify`);
}
