import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { blobReferenceOrFail, registerBlobBindingFactory } from '../lib/blobBinding';
import { config } from '../lib/config';
import { startRunForBlob } from '../lib/runClient';
import { submissionsTriggerSource } from '../lib/triggerSource';

registerBlobBindingFactory();

/**
 * A zip landed in the submissions container. The deferred binding hands over the blob's
 * identity, never its content (multi-GB zips must not be loaded into the worker), and the
 * run is keyed by the blob's ETag, so the trigger firing twice for one upload starts one run.
 */
export async function submissionBlobTrigger(blob: unknown, context: InvocationContext): Promise<void> {
  config(); // fail fast, naming every missing setting, before anything is started
  const ref = blobReferenceOrFail(blob, context.triggerMetadata?.name);
  const client = df.getClient(context);
  const result = await startRunForBlob(
    client,
    ref.client,
    { container: ref.containerName, name: ref.blobName },
    {
      source: 'blob',
      requestedAt: new Date().toISOString(),
    },
  );
  context.log(
    result.started
      ? `[${result.instanceId}] started for ${ref.containerName}/${ref.blobName} (ETag ${result.etag})`
      : `[${result.instanceId}] already has ${ref.containerName}/${ref.blobName} (ETag ${result.etag}); nothing started`,
  );
}

// Event Grid on Flex Consumption (its host refuses the polling trigger), polling elsewhere when chosen.
const source = submissionsTriggerSource();

app.storageBlob('submissionBlobTrigger', {
  path: '%SUBMISSIONS_CONTAINER%/{name}.zip',
  connection: 'SUBMISSIONS_STORAGE',
  ...(source === 'EventGrid' ? { source } : {}),
  sdkBinding: true,
  extraInputs: [df.input.durableClient()],
  handler: submissionBlobTrigger,
});
