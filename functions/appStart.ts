import { app } from '@azure/functions';
import { config } from '../lib/config';

/**
 * Reads every app setting once when the worker starts, so a missing or malformed setting
 * stops the app with one error that names them all, instead of failing the first run.
 */
app.hook.appStart(() => {
  config();
});
