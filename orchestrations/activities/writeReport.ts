import { RestError, type ContainerClient } from '@azure/storage-blob';
import { config } from '../../lib/config';
import type { SubmissionPreview } from '../../lib/preview';
import type { RunState } from '../../lib/run';
import { finalDocument } from '../../lib/statusDocument';
import { blobServiceFor, reportsContainer, ZIP_METADATA } from '../../lib/storage';
import { defineActivity, type ActivityInput } from './activity';

export interface ReportInput extends ActivityInput {
  state: RunState;
  createdTime?: string;
  endedTime: string;
}

export function reportBlobName(zipName: string, instanceId: string): string {
  return `${zipName}/${instanceId}.json`;
}

/**
 * Writes the final status document as a report blob and stamps the zip with the run's id
 * and outcome. The zip's content is never touched; its metadata is set only while its
 * ETag is still the one the run read, so a newer upload is not labelled with an older run.
 */
export const writeReport = defineActivity('writeReport', async (input: ReportInput, scope) => {
  const { state } = input;
  const name = reportBlobName(state.blob.name, input.instanceId);
  const document = finalDocument(input.instanceId, { ...state, reportBlob: name }, input.createdTime, input.endedTime);
  const reports = reportsContainer();
  await reports.createIfNotExists();
  // The status carries the first changes of the preview; the report carries them all.
  if (state.previewBlob) document.preview = await wholePreview(reports, state.previewBlob, document.preview);
  const body = JSON.stringify(document, null, 2);
  await reports.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
    blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' },
    metadata: { [ZIP_METADATA.instanceId]: input.instanceId, [ZIP_METADATA.outcome]: state.outcome ?? 'Unknown' },
  });

  const zip = blobServiceFor(config().submissionsStorage)
    .getContainerClient(state.blob.container)
    .getBlobClient(state.blob.name);
  let stamped = false;
  try {
    const props = await zip.getProperties({ conditions: { ifMatch: state.blob.etag } });
    await zip.setMetadata(
      {
        ...props.metadata,
        [ZIP_METADATA.instanceId]: input.instanceId,
        [ZIP_METADATA.outcome]: state.outcome ?? 'Unknown',
        [ZIP_METADATA.report]: name,
        [ZIP_METADATA.etag]: state.blob.etag.replace(/"/g, ''),
      },
      { conditions: { ifMatch: state.blob.etag } },
    );
    stamped = true;
  } catch (e) {
    if (!(e instanceof RestError) || (e.statusCode !== 412 && e.statusCode !== 404)) throw e;
    scope.log(`zip ${state.blob.name} changed or was removed since the run read it; its metadata is left alone`);
  }
  scope.log(`report written to ${config().reportsContainer}/${name}`);
  return { reportBlob: name, zipStamped: stamped };
});

/** The whole preview the run wrote beside its report; the bounded one when that blob is gone. */
async function wholePreview(
  reports: ContainerClient,
  name: string,
  bounded: SubmissionPreview | undefined,
): Promise<SubmissionPreview | undefined> {
  try {
    const bytes = await reports.getBlobClient(name).downloadToBuffer();
    return JSON.parse(bytes.toString('utf8')) as SubmissionPreview;
  } catch (e) {
    if (e instanceof RestError && e.statusCode === 404) return bounded;
    throw e;
  }
}
