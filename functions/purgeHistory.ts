import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { config, SETTINGS } from '../lib/config';
import { purgeFilter } from '../lib/historyPurge';

/**
 * On PURGE_SCHEDULE: deletes the Durable history of the instances that ended and were created more
 * than HISTORY_RETENTION_DAYS ago (lib/historyPurge.ts), so the task hub stops growing with every
 * run. The reports container is not touched: a run's report outlives its history.
 */
export async function purgeHistory(timer: Timer, context: InvocationContext): Promise<void> {
  const { retentionDays } = config().history;
  const filter = purgeFilter(new Date(), retentionDays);
  const client = df.getClient(context);
  const result = await client.purgeInstanceHistoryBy({
    ...filter,
    runtimeStatus: filter.runtimeStatus.map((s) => df.OrchestrationRuntimeStatus[s]),
  });
  context.log(
    `History purge${timer.isPastDue ? ' (past due)' : ''}: ${result.instancesDeleted} instance(s) created before ${filter.createdTimeTo.toISOString()} (${retentionDays} day(s) of retention) and ended were purged; reports stay`,
  );
}

app.timer('purgeHistory', {
  schedule: `%${SETTINGS.purgeSchedule}%`,
  extraInputs: [df.input.durableClient()],
  handler: purgeHistory,
});
