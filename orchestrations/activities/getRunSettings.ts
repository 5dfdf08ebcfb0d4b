import { config, notifying } from '../../lib/config';
import { defineActivity, type ActivityInput } from './activity';

export interface RunSettings {
  firstIntervalSeconds: number;
  maxIntervalSeconds: number;
  commitDeadlineMinutes: number;
  publishDeadlineHours: number;
  /** APPROVAL_TIMEOUT_HOURS; absent in a run started before the setting existed (then 72). */
  approvalTimeoutHours?: number;
  queueSettleSeconds: number;
  queuePollSeconds: number;
  /** A webhook or an Event Grid topic is configured: the run emits events. Absent in a run started before (none). */
  notify?: boolean;
}

/** App settings reach the orchestrator through an activity, so a replay sees the values the run started with. */
export const getRunSettings = defineActivity('getRunSettings', async (_input: ActivityInput): Promise<RunSettings> => {
  const { polling, notify } = config();
  return { ...polling, notify: notifying(notify) };
});
