/**
 * Guarantee 7 (the HTTP side; the zip classes are test/e2e/badInput.test.ts): a request that
 * cannot be served gets a 4xx that says why, and nothing happens: no run, no Store call, the
 * blobs it named untouched.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { findLeakedSecrets } from '../helpers/secrets';
import {
  appIds,
  appZip,
  durableInstances,
  seedApp,
  seedOf,
  startReliabilitySandbox,
  type ReliabilitySandbox,
} from './support';

const [app] = appIds('BADR', 1) as [string];

describe('bad requests', () => {
  let sandbox: ReliabilitySandbox;
  let outside: { container: string; name: string; etag: string };
  beforeAll(async () => {
    sandbox = await startReliabilitySandbox({ emulator: { seed: seedOf([seedApp(app)]) } });
    // A valid zip in another container of the same account: out of bounds for the API.
    const service = BlobServiceClient.fromConnectionString(sandbox.settings.SUBMISSIONS_STORAGE!);
    const other = service.getContainerClient(`${sandbox.submissions.containerName}-other`);
    await other.createIfNotExists();
    const zip = appZip(app);
    const uploaded = await other.getBlockBlobClient('release.zip').upload(zip, zip.length);
    outside = { container: other.containerName, name: 'release.zip', etag: uploaded.etag! };
  });
  afterAll(() => sandbox?.stop());

  const starts: Array<{ what: string; body: unknown; status: number; code: string; message: RegExp }> = [
    {
      what: 'a name outside the container',
      body: { blob: '../other/release.zip' },
      status: 400,
      code: 'InvalidBlobName',
      message: /is not a plain blob name inside the submissions container/,
    },
    {
      what: 'a URL of another container',
      body: { blob: 'OUTSIDE_URL' },
      status: 400,
      code: 'InvalidBlobName',
      message: /is a URL outside the submissions container/,
    },
    {
      what: 'a full URL to another host',
      body: { blob: 'https://attacker.example.com/zips/release.zip' },
      status: 400,
      code: 'InvalidBlobName',
      message: /is a URL outside the submissions container/,
    },
    {
      what: 'a URL of the container with a malformed %-escape',
      body: { blob: 'CONTAINER_URL/releases/100%zz.zip' },
      status: 400,
      code: 'InvalidBlobName',
      message: /is a URL with a malformed %-escape \("releases\/100%zz\.zip"\)/,
    },
    {
      what: 'a 100,000-character name',
      body: { blob: `${'a'.repeat(100_000)}.zip` },
      status: 400,
      code: 'InvalidBlobName',
      message: /^body\.blob is 100004 characters long; a blob name is at most 1024/,
    },
    {
      what: 'a name over the 1,024 characters of a blob name',
      body: { blob: `${'a/'.repeat(600)}x.zip` },
      status: 400,
      code: 'InvalidBlobName',
      message: /^body\.blob is 1205 characters long; a blob name is at most 1024\.$/,
    },
    {
      what: 'a missing blob',
      body: { blob: 'releases/never-uploaded.zip' },
      status: 404,
      code: 'BlobNotFound',
      message: /No blob named "releases\/never-uploaded\.zip" in container/,
    },
    {
      what: 'a body that is not JSON',
      body: '{"blob": "release.zip"',
      status: 400,
      code: 'InvalidBody',
      message: /must be JSON/,
    },
    {
      what: 'a JSON body that is not an object',
      body: '["release.zip"]',
      status: 400,
      code: 'InvalidBody',
      message: /must be a JSON object/,
    },
    {
      what: 'a body without a blob',
      body: { options: { waitFor: 'commit' } },
      status: 400,
      code: 'InvalidBlobName',
      message: /body\.blob must be the name of a zip/,
    },
    {
      what: 'unknown fields',
      body: { blob: 'release.zip', container: 'other' },
      status: 400,
      code: 'InvalidBody',
      message: /Unknown field\(s\) in the body: container/,
    },
    {
      what: 'bad options',
      body: { blob: 'release.zip', options: { waitFor: 'forever' } },
      status: 400,
      code: 'InvalidOptions',
      message: /waitFor/,
    },
  ];

  it.each(starts)('answers POST /api/submissions with $what with $status $code', async (c) => {
    const blob = c.body && typeof c.body === 'object' ? (c.body as { blob?: string }).blob : undefined;
    const body =
      blob === 'OUTSIDE_URL'
        ? {
            blob: BlobServiceClient.fromConnectionString(sandbox.settings.SUBMISSIONS_STORAGE!)
              .getContainerClient(outside.container)
              .getBlobClient(outside.name).url,
          }
        : blob?.startsWith('CONTAINER_URL/')
          ? { blob: `${sandbox.submissions.url}/${blob.slice('CONTAINER_URL/'.length)}` }
          : c.body;
    const answer = await sandbox.api('POST', '/api/submissions', body);
    expect({ status: answer.status, error: answer.body.error }).toEqual({
      status: c.status,
      error: expect.objectContaining({ code: c.code, message: expect.stringMatching(c.message) }),
    });
  });

  it.each([
    ['GET', '/api/submissions/zip-0000000000000000000000000000000000000000'],
    ['GET', '/api/submissions/not-even-an-id'],
    ['POST', '/api/submissions/zip-0000000000000000000000000000000000000000/cancel'],
    ['POST', '/api/submissions/not-even-an-id/cancel'],
  ])('answers %s %s for an unknown run with 404 RunNotFound', async (method, path) => {
    const answer = await sandbox.api(method, path);
    expect({ status: answer.status, error: answer.body.error }).toEqual({
      status: 404,
      error: expect.objectContaining({
        code: 'RunNotFound',
        message: expect.stringMatching(/No submission run has the id/),
      }),
    });
  });

  it.each([
    ['GET', `/api/submissions/zip-${'f'.repeat(5_000)}`],
    ['POST', `/api/submissions/zip-${'f'.repeat(5_000)}/cancel`],
  ])('answers %s with a 5,000-character run id (as long as a URL gets) with 400 InvalidRunId', async (method, path) => {
    const answer = await sandbox.api(method, path);
    expect({ status: answer.status, error: answer.body.error }).toEqual({
      status: 400,
      error: {
        code: 'InvalidRunId',
        message: expect.stringMatching(/^The run id is 5004 characters long; run ids are at most 100 /),
      },
    });
  });

  it('reads status=,,, as status= and as no status filter at all: any status', async () => {
    // One window for every call: without one, each answer's window ends at its own "now".
    const window = `since=${new Date(Date.now() - 86_400_000).toISOString()}&until=${new Date().toISOString()}`;
    const all = await sandbox.api('GET', `/api/submissions?${window}`);
    for (const query of ['?status=', '?status=,,,', '?status=%20,%20']) {
      const answer = await sandbox.api('GET', `/api/submissions${query}&${window}`);
      expect({ query, status: answer.status, body: answer.body }).toEqual({ query, status: 200, body: all.body });
    }
  });

  it('did nothing for any of them: no run, no Store call, the zip outside untouched', async () => {
    expect(await durableInstances(sandbox)).toEqual([]);
    const state = await sandbox.emulator.admin.state();
    expect(state.requests.filter((r) => r.server === 'api' || r.server === 'upload')).toEqual([]);
    const props = await BlobServiceClient.fromConnectionString(sandbox.settings.SUBMISSIONS_STORAGE!)
      .getContainerClient(outside.container)
      .getBlobClient(outside.name)
      .getProperties();
    expect(props.etag).toBe(outside.etag);
    expect(props.metadata).toEqual({});
  });

  it('leaks no secret anywhere', async () => {
    const texts = sandbox.responses.map((r) => ({ where: r.url, text: r.body }));
    expect(await findLeakedSecrets(sandbox, { texts, taskHub: sandbox.taskHub })).toEqual([]);
  });
});
