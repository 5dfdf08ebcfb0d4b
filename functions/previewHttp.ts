/**
 * POST /api/preview: what a submission zip would change against the Store's published
 * submission, before anything is sent (`store-submitter validate --against-store`). The body is
 * the zip itself; it is checked as a run checks a dropped zip, then the Store is only read
 * (lib/storePreview.ts): nothing is created, updated, deleted or committed, and the zip is not
 * kept. The Store credential stays in the app; callers need only the function key.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { config } from '../lib/config';
import { isInputError, isStoreRequestError } from '../lib/errors';
import { readSubmission, SUBMISSION_ZIP_LIMITS } from '../lib/manifest';
import { redact } from '../lib/redact';
import { storeClientFor } from '../lib/store/client';
import { MAX_PREVIEW_ZIP_BYTES, previewAgainstStore } from '../lib/storePreview';
import { BufferRangeReader, openZip } from '../lib/zip/blobZip';
import { formatBytes } from '../lib/zip/format';
import { answering, problem } from './answers';

/** How problems name the zip: it has no name of its own in a request body. */
export const PREVIEW_ZIP_LABEL = 'the request body';

export async function previewZip(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > MAX_PREVIEW_ZIP_BYTES) return tooBig(declared);
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > MAX_PREVIEW_ZIP_BYTES) return tooBig(bytes.length);
  if (bytes.length === 0)
    return problem(400, 'InvalidBody', 'The body must be the submission zip (Content-Type: application/zip).');

  // The same checks as a run's first step, before the Store is asked anything.
  let read;
  try {
    const zip = await openZip(
      new BufferRangeReader(bytes, PREVIEW_ZIP_LABEL),
      PREVIEW_ZIP_LABEL,
      SUBMISSION_ZIP_LIMITS,
    );
    read = { zip, ...(await readSubmission(zip)) };
  } catch (e) {
    if (isInputError(e)) return problem(400, e.code, inputMessage(e.problems), { problems: e.problems });
    throw e;
  }
  if (read.manifest.target.kind === 'win32')
    return problem(
      400,
      'PreviewNotSupported',
      'The preview compares Store submissions of apps, flights and add-ons; an MSI/EXE app (target.kind "win32") has none to compare.',
    );

  const store = storeClientFor(config().store, {
    logger: (line) =>
      context.log(
        redact(
          `preview: ${line.method} ${line.path} -> ${line.status ?? line.error ?? 'no answer'} in ${line.durationMs} ms (MS-CorrelationId ${line.correlationId ?? 'none'})`,
        ),
      ),
  });
  try {
    const result = await previewAgainstStore(store, read.manifest, read.zip);
    context.log(
      `preview: ${result.preview.changes.length} change(s) against ${result.publishedSubmissionId ?? 'nothing published'}`,
    );
    return { status: 200, jsonBody: { target: read.manifest.target, options: read.manifest.options, ...result } };
  } catch (e) {
    if (!isStoreRequestError(e)) throw e;
    const correlationIds = e.correlationId ? [e.correlationId] : [];
    if (e.status === 404)
      return problem(
        404,
        'ProductNotFound',
        `The Store has no product that submission.json target names: ${e.message}`,
        {
          correlationIds,
        },
      );
    if (e.status !== undefined && e.status < 500 && e.status !== 429 && e.status !== 408)
      return problem(502, 'StoreRefused', `The Store refused the call: ${e.message}`, {
        storeStatus: e.status,
        correlationIds,
      });
    return problem(503, 'StoreUnavailable', `The Store did not answer; trying again later may help: ${e.message}`, {
      correlationIds,
    });
  }
}

function tooBig(bytes: number): HttpResponseInit {
  return problem(
    413,
    'ZipTooLarge',
    `The zip is ${formatBytes(bytes)}; the preview takes a zip of at most ${formatBytes(MAX_PREVIEW_ZIP_BYTES)} in the request body (the Functions host's limit).`,
  );
}

function inputMessage(problems: Array<{ file: string; field?: string; message: string }>): string {
  const first = problems[0];
  const where = first
    ? `${first.file}${first.field ? ` ${first.field}` : ''}: ${first.message}`
    : 'the zip was refused';
  return problems.length > 1 ? `${where} (and ${problems.length - 1} more problem(s))` : where;
}

app.http('previewZip', {
  methods: ['POST'],
  route: 'preview',
  authLevel: 'function',
  handler: answering(previewZip),
});
