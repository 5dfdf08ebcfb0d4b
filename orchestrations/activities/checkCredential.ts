import { config } from '../../lib/config';
import { checkCredential as check } from '../../lib/store/credential';
import { defineActivity, type ActivityInput } from './activity';

/** Proves a Store token can be had before anything in the Store changes. Returns no token. */
export const checkCredential = defineActivity('checkCredential', async (_input: ActivityInput, scope) => {
  const { expiresOnTimestamp } = await check(config().store);
  scope.log(`token available, valid until ${new Date(expiresOnTimestamp).toISOString()}`);
  return { expiresOn: new Date(expiresOnTimestamp).toISOString() };
});
