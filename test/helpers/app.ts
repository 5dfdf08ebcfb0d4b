import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../tools/package';

export interface LoadedApp {
  files: string[];
  functions: Array<{ name: string; trigger: string; connections: string[]; paths: string[] }>;
}

/**
 * What an app folder registers when the Node worker loads it (test/helpers/loadApp.ts, in a
 * child process of its own). Needs the built project: `npm run build`.
 */
export function loadApp(appDir: string): LoadedApp {
  const loader = join(projectRoot(__dirname), 'dist/test/helpers/loadApp.js');
  if (!existsSync(loader)) throw new Error(`${loader} is missing: run "npm run build" first`);
  const env = { ...process.env };
  delete env.NODE_PATH; // a package must bring every module it needs
  const result = spawnSync(process.execPath, [loader, appDir], { cwd: appDir, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`loading ${appDir} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as LoadedApp;
}
