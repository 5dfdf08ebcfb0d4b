/**
 * When a win32 submission's status means the run is done: the Submission Status Polling API
 * answers `publishingStatus` INPROGRESS, PUBLISHED, FAILED or UNKNOWN and `hasFailed` ("Indicates
 * if Publishing has Failed and won't be retried"), windows-dev-docs
 * hub/apps/publish/store-submission-api.md; msstore-cli polls until PUBLISHED or FAILED
 * (MSStore.CLI/Helpers/IStoreAPIExtensions.cs).
 */
import type { Win32PublishingStatus } from '../store/win32Types';
import type { StatusVerdict, WaitFor } from '../polling';

export function judgeWin32Status(
  status: { publishingStatus: Win32PublishingStatus; hasFailed: boolean },
  waitFor: WaitFor,
): Exclude<StatusVerdict, { verdict: 'commitFellBack' }> {
  if (status.hasFailed || status.publishingStatus === 'FAILED') {
    return {
      verdict: 'failed',
      reason: 'The Store failed the submission (publishingStatus FAILED).',
      advice:
        'Read the errors below and the certification report in Partner Center, fix what they name and upload a new zip. The submission stays in Partner Center as the Store left it.',
    };
  }
  if (status.publishingStatus === 'PUBLISHED') return { verdict: 'done' };
  // "commit": the Store has the submission in hand (file scanning, certification, publishing).
  if (waitFor === 'commit' && status.publishingStatus === 'INPROGRESS') return { verdict: 'done' };
  // UNKNOWN right after submit says nothing yet; it is not a failure.
  return { verdict: 'wait' };
}
