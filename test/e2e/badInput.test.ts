import { createHash } from 'node:crypto';
import { instanceIdFor } from '../../lib/instanceId';
import type { StatusDocument } from '../../lib/statusDocument';
import { ZIP_METADATA } from '../../lib/storage';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { BAD_INPUTS, findProblem, type BadInput } from '../helpers/zips';

const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');
const USER_METADATA = { owner: 'release-bot', build: '2024.06.1' };

interface Dropped {
  key: string;
  bad: BadInput;
  blobName: string;
  bytes: Buffer;
  instanceId: string;
  doc: StatusDocument;
}

describe('bad input end to end', () => {
  let sandbox: TestSandbox;
  let runs: Dropped[];

  beforeAll(async () => {
    sandbox = await startTestSandbox();
    // Every class at once into one sandbox: the runs are independent, and one host keeps it fast.
    runs = await Promise.all(
      Object.entries(BAD_INPUTS).map(async ([key, bad]) => {
        const bytes = bad.bytes();
        // Names as users write them (spaces, accents) and metadata of their own, which a run must keep.
        const blobName = `bad/Größe ${key}.zip`;
        const { etag } = await sandbox.submissions
          .getBlockBlobClient(blobName)
          .upload(bytes, bytes.length, { metadata: USER_METADATA });
        const instanceId = instanceIdFor(sandbox.submissions.containerName, blobName, etag!);
        const doc = await sandbox.finished(instanceId);
        return { key, bad, blobName, bytes, instanceId, doc };
      }),
    );
  });
  afterAll(() => sandbox?.stop());

  it('drops every class of bad input', () => {
    expect(runs.map((r) => r.key).sort()).toEqual(Object.keys(BAD_INPUTS).sort());
    expect(runs.length).toBeGreaterThanOrEqual(29);
  });

  it.each(Object.keys(BAD_INPUTS))('%s: the run fails with the problem naming the file and field', (key) => {
    const run = runs.find((r) => r.key === key)!;
    const { doc, bad } = run;
    expect(doc).toMatchObject({ status: 'Failed', phase: 'Failed', outcome: 'Failed' });
    expect(doc.submissionId).toBeUndefined();
    const failure = doc.failure!;
    expect(failure).toBeDefined();
    expect(failure.step).toBe('validateZip');
    expect(failure.facts.code).toBe(bad.expect.code);
    expect(failure.facts.retriable).toBe(false);
    const problem = findProblem(
      failure.facts.problems,
      bad.expect,
      `${sandbox.submissions.containerName}/${run.blobName}`,
    );
    if (!problem)
      throw new Error(
        `${key}: no problem matches ${String(bad.expect.message)} in ${JSON.stringify(failure, null, 2)}`,
      );
    // The message the user reads names the file and the field, not only the facts behind it.
    expect(failure.message).toContain(problem.file);
    if (problem.field) expect(failure.message).toContain(problem.field);
    expect(failure.message).toContain(problem.message);
    // An input problem is not retried: no durable timer, one attempt.
    const validate = doc.timeline.find((s) => s.step === 'validateZip');
    expect(validate).toMatchObject({ result: 'failed' });
    expect(validate?.attempts ?? 1).toBe(1);
    expect(doc.timeline.map((s) => s.step)).not.toContain('checkCredential');
  });

  it('writes a report with the same failure for every run', async () => {
    await Promise.all(
      runs.map(async ({ blobName, instanceId, doc }) => {
        expect(doc.reportBlob).toBe(`${blobName}/${instanceId}.json`);
        const report = JSON.parse(
          (await sandbox.reports.getBlobClient(doc.reportBlob!).downloadToBuffer()).toString(),
        ) as StatusDocument;
        expect(report).toMatchObject({ instanceId, status: 'Failed', outcome: 'Failed' });
        expect(report.failure).toEqual(doc.failure);
      }),
    );
  });

  it('sends nothing to the Store: no API call and no upload for any of the runs', async () => {
    const { requests, submissions } = await sandbox.emulator.admin.state();
    expect(requests.filter((r) => r.server !== 'token')).toEqual([]);
    expect(submissions.filter((s) => s.createdIn === 'API' && s.status === 'PendingCommit')).toEqual([]);
  });

  it("never deletes or changes the user's zip (only its metadata is stamped)", async () => {
    await Promise.all(
      runs.map(async ({ key, blobName, bytes, instanceId }) => {
        const blob = sandbox.submissions.getBlobClient(blobName);
        const props = await blob.getProperties();
        expect({ key, length: props.contentLength }).toEqual({ key, length: bytes.length });
        const now = bytes.length === 0 ? Buffer.alloc(0) : await blob.downloadToBuffer();
        expect({ key, md5: md5(now) }).toEqual({ key, md5: md5(bytes) });
        expect(props.metadata).toMatchObject({
          ...USER_METADATA,
          [ZIP_METADATA.instanceId]: instanceId,
          [ZIP_METADATA.outcome]: 'Failed',
        });
      }),
    );
    const names: string[] = [];
    for await (const b of sandbox.submissions.listBlobsFlat({ prefix: 'bad/' })) names.push(b.name);
    expect(names.sort()).toEqual(runs.map((r) => r.blobName).sort());
  });
});
