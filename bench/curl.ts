/**
 * The simplest client as the yardstick: curl, timed by curl itself (`%{time_total}`, the
 * transfer without process start-up). The URL goes to curl on stdin as a config line, so a
 * SAS signature never sits on a command line.
 */
import { spawn } from 'node:child_process';

export interface CurlResult {
  status: number;
  bytes: number;
  seconds: number;
}

function curl(config: string, args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--config', '-', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const [status, bytes, seconds] = out.trim().split(/\s+/).map(Number);
      if (code !== 0 || !status) {
        reject(new Error(`curl failed (exit ${code}): ${err.replace(/sig=[^&\s"]+/gi, 'sig=REDACTED').trim()}`));
        return;
      }
      resolve({ status: status, bytes: bytes ?? 0, seconds: seconds ?? NaN });
    });
    child.stdin.end(config);
  });
}

function urlLine(url: string): string {
  return `url = "${url.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\n`;
}

/** GET `url`, bytes to `target` (a file, or /dev/null). */
export function curlGet(url: string, target = '/dev/null'): Promise<CurlResult> {
  return curl(urlLine(url), ['-o', target, '-w', '%{http_code} %{size_download} %{time_total}']);
}

/** One Put Blob of the whole file. `Expect:` off: no 100-continue round trip. */
export function curlPutBlob(url: string, file: string): Promise<CurlResult> {
  return curl(urlLine(url), [
    '-X',
    'PUT',
    '-T',
    file,
    '-H',
    'x-ms-blob-type: BlockBlob',
    '-H',
    'Expect:',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code} %{size_upload} %{time_total}',
  ]);
}

export function hasCurl(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}
