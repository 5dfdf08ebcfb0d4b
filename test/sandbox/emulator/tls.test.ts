import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { ensureTlsMaterial } from '../../../sandbox/tls';

/** A GET over TLS to `host`, trusting only `ca`: the handshake checks the chain and the name. */
function get(host: string, port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', ca, servername: host === '127.0.0.1' ? undefined : host }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('sandbox TLS material', () => {
  it('creates a CA and a server certificate for 127.0.0.1 and localhost that a real TLS client accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-test-'));
    const m = ensureTlsMaterial(dir);
    const ca = new X509Certificate(readFileSync(m.caCertPath));
    const cert = new X509Certificate(readFileSync(m.certPath));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(statSync(m.keyPath).mode & 0o077).toBe(0);

    const server = createServer({ cert: readFileSync(m.certPath), key: readFileSync(m.keyPath) }, (_req, res) =>
      res.end('hello'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await get('127.0.0.1', port, readFileSync(m.caCertPath))).toBe('hello');
      expect(await get('localhost', port, readFileSync(m.caCertPath))).toBe('hello');
      // Another CA is not trusted: the check is real.
      const other = ensureTlsMaterial(mkdtempSync(join(tmpdir(), 'tls-other-')));
      await expect(get('127.0.0.1', port, readFileSync(other.caCertPath))).rejects.toThrow();
    } finally {
      server.close();
    }
  });

  it('reuses valid files, replaces broken ones, and serialises concurrent callers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-test-'));
    // Three processes race on an empty folder: all must end up with one consistent set.
    const run = (): Promise<{ stdout: string }> =>
      promisify(execFile)(
        process.execPath,
        [
          '-e',
          `const m = require(process.argv[1]); m.ensureTlsMaterial(process.argv[2]); console.log('ok');`,
          compiled(),
          dir,
        ],
        { env: { ...process.env, NODE_OPTIONS: '' } },
      );
    const [a, b] = await Promise.all([run(), run(), Promise.resolve(ensureTlsMaterial(dir))]);
    expect([a.stdout.trim(), b.stdout.trim()]).toEqual(['ok', 'ok']);
    const first = ensureTlsMaterial(dir);
    const caPem = readFileSync(first.caCertPath, 'utf8');
    expect(new X509Certificate(readFileSync(first.certPath)).checkIssued(new X509Certificate(caPem))).toBe(true);

    const before = statSync(first.certPath).mtimeMs;
    ensureTlsMaterial(dir);
    expect(statSync(first.certPath).mtimeMs).toBe(before);

    writeFileSync(first.certPath, 'not a certificate');
    ensureTlsMaterial(dir);
    expect(
      new X509Certificate(readFileSync(first.certPath)).checkIssued(
        new X509Certificate(readFileSync(first.caCertPath)),
      ),
    ).toBe(true);
  });
});

/** sandbox/tls.ts compiled on the fly for plain `node` children (jest compiles only in-process). */
function compiled(): string {
  const out = mkdtempSync(join(tmpdir(), 'tls-js-'));
  const source = readFileSync(join(__dirname, '../../../sandbox/tls.ts'), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  // The compiled copy lives outside the repo: point its `selfsigned` at the real one.
  const file = join(out, 'tls.js');
  writeFileSync(
    file,
    js.outputText.replace("require.resolve('selfsigned')", JSON.stringify(require.resolve('selfsigned'))),
  );
  return file;
}
