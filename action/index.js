// The GitHub Action's Node entry (action.yml `runs.main`). The action is the CLI's own code,
// compiled from this repository: on the first run in a job it installs the packages and builds
// (npm ci, npm run build, in the action's folder), then runs dist/action/main.js.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist', 'action', 'main.js');

if (!existsSync(entry)) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // The Functions host tools are optional and not needed here; their output goes to the step's log.
  const options = { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' };
  execFileSync(npm, ['ci', '--omit=optional', '--no-audit', '--no-fund'], options);
  execFileSync(npm, ['run', 'build'], options);
}

require(entry)
  .runAction()
  .then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (e) => {
      process.stdout.write(`::error title=store-submitter::${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
