import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../tools/package';

export interface LoadedApp {
  files: string[];
  functions: Array<{ name: string; trigger: string; connections: string[]; paths: string[] }>;
}

/**
 * What an app folder registers when the Node worker loads it (test/helpers/loadApp.ts, in a
 * child process of its own), with the settings of local.settings.example.json, as `func start`
 * would have them: a binding that reads a setting when it registers finds it. Needs the built
 * project: `npm run build`.
 */
export function loadApp(appDir: string): LoadedApp {
  const root = projectRoot(__dirname);
  const loader = join(root, 'dist/test/helpers/loadApp.js');
  if (!existsSync(loader)) throw new Error(`${loader} is missing: run "npm run build" first`);
  const example = JSON.parse(readFileSync(join(root, 'local.settings.example.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  const env = { ...process.env, ...example.Values };
  delete env.NODE_PATH; // a package must bring every module it needs
  const result = spawnSync(process.execPath, [loader, appDir], { cwd: appDir, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`loading ${appDir} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as LoadedApp;
}
