/**
 * The CLI's side of the HTTP API and its exit codes, against a small real HTTP server that
 * answers as the Functions app would (or as it should not).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatusDocument } from '../../lib/statusDocument';
import { EXIT, ServiceError } from '../../cli/errors';
import { followRun } from '../../cli/follow';
import { FunctionsClient } from '../../cli/functionsClient';
import { parseDuration } from '../../cli/main';
import { exitCodeForRun, outcomeLines, renderDocument } from '../../cli/view';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { previewLines, type SubmissionPreview } from '../../lib/preview';
import { goodZip, packageFor } from '../helpers/zips';
import { runCli, tempDir } from './helpers';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let url: string;
let handler: Handler;
const seen: Array<{ method?: string; url?: string; key?: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, key: req.headers['x-functions-key'] as string | undefined });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => {
  seen.length = 0;
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function doc(status: StatusDocument['status'], extra: Partial<StatusDocument> = {}): StatusDocument {
  return {
    instanceId: 'zip-1111111111111111111111111111111111111111',
    status,
    phase: status === 'Running' ? 'WaitingForStore' : status === 'Succeeded' ? 'Succeeded' : 'Failed',
    blob: { container: 'submissions', name: 'a.zip', etag: '"1"' },
    dryRun: false,
    storeErrors: [],
    storeWarnings: [],
    certificationReports: [],
    timeline: [],
    ...extra,
  };
}

describe('the Functions API client', () => {
  it('sends the key as x-functions-key, never in the URL, and says when it is refused (exit 3, key not printed)', async () => {
    handler = (_req, res) => res.writeHead(401).end();
    const key = 'k3y-0f-the-functions-app-7h4t-must-not-leak';
    const result = await runCli([
      'status',
      'zip-1111111111111111111111111111111111111111',
      '--functions-url',
      url,
      '--function-key',
      key,
    ]);
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stderr).toMatch(/refused the request \(HTTP 401\): the function key is wrong/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(key);
    expect(seen).toEqual([
      { method: 'GET', url: '/api/submissions/zip-1111111111111111111111111111111111111111', key },
    ]);
  });

  it('a server that is not the submissions API is named as such before anything is uploaded', async () => {
    handler = (_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
    await expect(new FunctionsClient(url).probe()).rejects.toMatchObject({
      code: 'UnexpectedAnswer',
      message: expect.stringMatching(/did not answer as the store-submitter Functions app/),
    });
    handler = (_req, res) =>
      json(res, 404, { error: { code: 'RunNotFound', message: 'No submission run has the id' } });
    await expect(new FunctionsClient(url).probe()).resolves.toBeUndefined();
  });

  it('status by blob name picks the newest run of that zip', async () => {
    const newest = doc('Succeeded', { instanceId: 'zip-2222222222222222222222222222222222222222' });
    handler = (req, res) => {
      if (req.url?.startsWith('/api/submissions?blob=')) {
        expect(req.url).toBe('/api/submissions?blob=releases%2F1.2.3.zip');
        json(res, 200, {
          runs: [
            { instanceId: newest.instanceId, status: 'Succeeded' },
            {
              instanceId: 'zip-3333333333333333333333333333333333333333',
              status: 'Failed',
              createdTime: '2025-01-01T00:00:00Z',
            },
          ],
        });
      } else json(res, 200, newest);
    };
    const result = await runCli(['status', 'releases/1.2.3.zip', '--functions-url', url, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).instanceId).toBe(newest.instanceId);
    expect(seen.map((s) => s.url)).toEqual([
      '/api/submissions?blob=releases%2F1.2.3.zip',
      `/api/submissions/${newest.instanceId}`,
    ]);
  });
  it('status by blob name follows every page of runs and picks the newest across them', async () => {
    const newest = doc('Succeeded', { instanceId: 'zip-4444444444444444444444444444444444444444' });
    handler = (req, res) => {
      if (req.url === '/api/submissions?blob=a.zip')
        json(res, 200, {
          runs: [{ instanceId: 'zip-5555555555555555555555555555555555555555', createdTime: '2026-11-01T00:00:00Z' }],
          next: 'http://elsewhere.invalid/api/submissions?blob=a.zip&continuation=C2',
        });
      else if (req.url === '/api/submissions?blob=a.zip&continuation=C2')
        json(res, 200, { runs: [{ instanceId: newest.instanceId, createdTime: '2026-12-01T00:00:00Z' }] });
      else json(res, 200, newest);
    };
    const result = await runCli(['status', 'a.zip', '--functions-url', url, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).instanceId).toBe(newest.instanceId);
    // the next page on this client's own address
    expect(seen.map((s) => s.url)).toEqual([
      '/api/submissions?blob=a.zip',
      '/api/submissions?blob=a.zip&continuation=C2',
      `/api/submissions/${newest.instanceId}`,
    ]);
  });
});

describe('following a run', () => {
  it('waits while the run does not exist yet, rides out a short outage, and ends with the run', async () => {
    const answers: Array<(res: ServerResponse) => void> = [
      (res) => json(res, 404, { error: { code: 'RunNotFound' } }),
      (res) => res.writeHead(503).end(),
      (res) => json(res, 200, doc('Running')),
      (res) => json(res, 200, doc('Succeeded')),
    ];
    handler = (_req, res) => answers.shift()!(res);
    const polled: Array<string | undefined> = [];
    const retried: string[] = [];
    const ended = await followRun(new FunctionsClient(url), 'zip-1111111111111111111111111111111111111111', {
      pollIntervalMs: 10,
      onPoll: (d) => polled.push(d?.status),
      onRetry: (e) => retried.push(e.code),
    });
    expect(ended).toMatchObject({ timedOut: false, doc: { status: 'Succeeded' } });
    expect(polled).toEqual([undefined, 'Running', 'Succeeded']);
    expect(retried).toEqual(['ServiceError']);
  });

  it('gives up on a service that stays down after the grace period, and on a timeout', async () => {
    handler = (_req, res) => res.writeHead(502).end();
    await expect(
      followRun(new FunctionsClient(url), 'zip-1', { pollIntervalMs: 10, unreachableGraceMs: 50 }),
    ).rejects.toBeInstanceOf(ServiceError);

    handler = (_req, res) => json(res, 200, doc('Running'));
    // The run stays Running for ever: only the timeout can end the follow.
    const ended = await followRun(new FunctionsClient(url), 'zip-1', { pollIntervalMs: 20, timeoutMs: 120 });
    expect(ended).toMatchObject({ timedOut: true, doc: { status: 'Running' } });
  });
});

describe('exit codes of a finished run', () => {
  const failure = (code: string, extra = {}) => ({
    step: 'x',
    message: 'm',
    facts: { code, retriable: false, ...extra },
  });
  test.each([
    ['Succeeded', doc('Succeeded'), EXIT.ok],
    ['a dry run', doc('Succeeded', { outcome: 'DryRunSucceeded' }), EXIT.ok],
    ['superseded by a newer release', doc('Succeeded', { outcome: 'Superseded' }), EXIT.ok],
    [
      'certification failed',
      doc('Failed', { storeStatus: 'CertificationFailed', failure: failure('CertificationFailed') }),
      EXIT.runFailed,
    ],
    [
      'the pipeline refused the manifest',
      doc('Failed', { failure: failure('InvalidManifest', { problems: [{ file: 'submission.json', message: 'x' }] }) }),
      EXIT.rejected,
    ],
    ['the pipeline refused the zip', doc('Failed', { failure: failure('InvalidZip') }), EXIT.rejected],
    ['the zip disappeared', doc('Failed', { failure: failure('BlobNotFound') }), EXIT.runFailed],
    ['canceled', doc('Canceled'), EXIT.runFailed],
  ])('%s', (_name, d, code) => {
    expect(exitCodeForRun(d)).toBe(code);
  });

  it('says a superseded run submitted nothing, and why', () => {
    const message =
      "Not submitted: this zip's packages have version 2.0.0.0, and run zip-2 already brought version 2.1.0.0 of this product to the Store.";
    const superseded = doc('Succeeded', {
      outcome: 'Superseded',
      supersededBy: { instanceId: 'zip-2', version: '2.1.0.0', because: 'committed', message },
    });
    expect(outcomeLines(superseded)).toEqual(['Superseded: a.zip, nothing submitted.', `  ${message}`]);
  });

  it('durations for --timeout and --poll-interval', () => {
    expect([
      parseDuration('90'),
      parseDuration('500ms'),
      parseDuration('2s'),
      parseDuration('30m'),
      parseDuration('1.5h'),
    ]).toEqual([90_000, 500, 2000, 1_800_000, 5_400_000]);
    expect(() => parseDuration('soon')).toThrow(/duration/);
    expect(() => parseDuration('0')).toThrow(/more than 0/);
  });
});

describe('validate --against-store', () => {
  const pkg = 'packages/Contoso_1.2.3.0_x64.msixupload';
  const dir = tempDir('against-store');
  const path = join(dir, 'release.zip');
  const zip = goodZip(
    {
      target: { kind: 'app', applicationId: '9NBLGGH4R315' },
      submission: { applicationPackages: [{ fileName: pkg }] },
    },
    { [pkg]: packageFor(pkg) },
  );
  writeFileSync(path, zip);
  const preview: SubmissionPreview = {
    against: '1152921504606962205',
    counts: { language: 0, text: 0, image: 0, package: 1, setting: 1 },
    changes: [
      { area: 'package', change: 'added', fileName: pkg, version: '1.2.3.0', architecture: 'X64' },
      { area: 'setting', change: 'changed', field: 'visibility', before: 'Public', after: 'Hidden' },
    ],
  };
  const key = 'k3y-0f-the-functions-app-for-the-preview';

  it('posts the zip itself with the key, and prints the preview as status prints it', async () => {
    const bodies: Array<{ type?: string; bytes: Buffer }> = [];
    handler = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({ type: req.headers['content-type'], bytes: Buffer.concat(chunks) });
        json(res, 200, {
          product: { kind: 'app', applicationId: '9NBLGGH4R315' },
          publishedSubmissionId: preview.against,
          pendingSubmissionId: '1152921504606962999',
          preview,
          correlationIds: ['c-1', 'c-2'],
        });
      });
    };
    const result = await runCli(['validate', path, '--against-store', '--functions-url', url, '--function-key', key]);
    expect(result.code).toBe(EXIT.ok);
    expect(seen).toEqual([{ method: 'POST', url: '/api/preview', key }]);
    expect(bodies).toEqual([{ type: 'application/zip', bytes: zip }]);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toContain('  store     app 9NBLGGH4R315, published submission 1152921504606962205');
    expect(lines).toContain(
      '  pending   submission 1152921504606962999 is pending: options.pendingSubmission decides what a run does with it',
    );
    expect(lines.slice(lines.indexOf('Preview'))).toEqual(['Preview', ...previewLines(preview).map((l) => `  ${l}`)]);
    expect(`${result.stdout}${result.stderr}`).not.toContain(key);
  });

  it("the app's refusal exits 1 with its words; a zip refused locally never reaches the app (exit 2)", async () => {
    handler = (_req, res) =>
      json(res, 404, {
        error: { code: 'ProductNotFound', message: 'The Store has no product that submission.json target names' },
      });
    const refused = await runCli(['validate', path, '--against-store', '--functions-url', url, '--json']);
    expect(refused.code).toBe(EXIT.runFailed);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'ProductNotFound' } });

    seen.length = 0;
    const bad = join(dir, 'bad.zip');
    writeFileSync(bad, goodZip({ target: { kind: 'app' } }));
    const local = await runCli(['validate', bad, '--against-store', '--functions-url', url]);
    expect(local.code).toBe(EXIT.rejected);
    expect(local.stderr).toMatch(/submission\.json target/);
    expect(seen).toEqual([]);
  });

  it('without --against-store nothing is sent anywhere', async () => {
    expect((await runCli(['validate', path, '--functions-url', url])).code).toBe(EXIT.ok);
    expect(seen).toEqual([]);
  });
});

describe('status of a run with a ramp', () => {
  it('shows the ramp state and each step, applied or due', () => {
    const text = renderDocument(
      doc('Succeeded', {
        ramp: {
          state: 'Halted',
          message: 'Halted by ops at 2026-12-02T13:25:58.170Z.',
          steps: [
            { percentage: 5, appliedAt: '2026-12-02T13:25:43.941Z' },
            {
              percentage: 20,
              after: '24h',
              dueAt: '2026-12-03T13:25:43.941Z',
              appliedAt: '2026-12-03T13:25:44.000Z',
              correlationId: 'c-2',
            },
            { finalize: true, after: '72h', dueAt: '2026-12-05T13:25:43.941Z' },
          ],
        },
      }),
    ).split('\n');
    const at = text.findIndex((l) => l.startsWith('Ramp '));
    expect(text.slice(at, at + 4)).toEqual([
      'Ramp        Halted: Halted by ops at 2026-12-02T13:25:58.170Z.',
      '  5%                 applied 2026-12-02T13:25:43.941Z',
      '  20% after 24h      applied 2026-12-03T13:25:44.000Z (MS-CorrelationId c-2)',
      '  finalize after 72h due 2026-12-05T13:25:43.941Z',
    ]);
  });
});
