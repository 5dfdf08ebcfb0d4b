import { SETTINGS } from './config';

export type BlobTriggerSource = 'EventGrid' | 'LogsAndContainerScan';

/**
 * The blob trigger's source, from `SUBMISSIONS_TRIGGER_SOURCE` (read when the function is
 * registered, so at worker start): `EventGrid` takes the storage account's `BlobCreated` events
 * from an Event Grid subscription on the blob extension's webhook, the only source Flex
 * Consumption accepts; `LogsAndContainerScan` (also when unset) is the polling trigger, kept for
 * Premium and Dedicated. Both keep exactly one run per blob version: the extension's receipts
 * dedupe the trigger, and the run's instance id is derived from the blob's ETag.
 */
export function submissionsTriggerSource(env: NodeJS.ProcessEnv = process.env): BlobTriggerSource {
  const raw = (env[SETTINGS.submissionsTriggerSource] ?? '').trim();
  if (raw === '' || raw.toLowerCase() === 'logsandcontainerscan') return 'LogsAndContainerScan';
  if (raw.toLowerCase() === 'eventgrid') return 'EventGrid';
  throw new Error(`${SETTINGS.submissionsTriggerSource} must be EventGrid or LogsAndContainerScan, got "${raw}"`);
}
