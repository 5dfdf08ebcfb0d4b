/**
 * The GitHub Action run as a runner runs it: the built entry point as a child process with the
 * INPUT_* environment and the GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, against the sandbox.
 * Judged by its exit code (the CLI's), its outputs, its job summary and its log.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { workflowOidcToken } from '../../action/main';
import { SEED_IDS } from '../../sandbox/emulator';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox';
import { packageFor } from '../helpers/zips';
import { ensureCliBuilt, makeFolder, tempDir } from './helpers';

const REPO = resolve(__dirname, '..', '..');
let sandbox: TestSandbox;
/** A host key of the sandbox's app, as the README tells users to store in a secret. */
let FUNCTION_KEY: string;
let root: string;

beforeAll(async () => {
  ensureCliBuilt();
  if (!existsSync(join(REPO, 'dist', 'action', 'main.js'))) throw new Error('run npm run build first');
  sandbox = await startTestSandbox();
  FUNCTION_KEY = sandbox.host.keys!.host.default!;
  root = tempDir('action');
});
afterAll(async () => {
  await sandbox?.emulator.admin.clearFaults();
  await sandbox?.stop();
});

interface ActionRun {
  code: number;
  log: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Runs `entry` as the runner would, with `inputs` as INPUT_<NAME> and fresh output files. */
function runAction(name: string, inputs: Record<string, string>, entry = 'dist/action/main.js'): Promise<ActionRun> {
  const outputFile = join(root, `${name}.output`);
  const summaryFile = join(root, `${name}.summary.md`);
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(SUBMISSIONS_|STORE_SUBMITTER_|INPUT_|GITHUB_)/.test(k)),
  ) as Record<string, string>;
  const env: Record<string, string> = {
    ...clean,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: name,
    RUNNER_TEMP: root,
    'INPUT_FUNCTIONS-URL': sandbox.host.url,
    'INPUT_FUNCTION-KEY': FUNCTION_KEY,
    'INPUT_CONNECTION-STRING': sandbox.azurite.connectionString,
    INPUT_CONTAINER: sandbox.submissions.containerName,
    'INPUT_POLL-INTERVAL': '100ms',
    INPUT_WAIT: 'true',
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((done) => {
    execFile(process.execPath, [join(REPO, entry)], { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
      done({
        code,
        log: stdout + stderr,
        outputs: parseOutputs(readFileSync(outputFile, 'utf8')),
        summary: readFileSync(summaryFile, 'utf8'),
      });
    });
  });
}

/** GITHUB_OUTPUT's `name<<delimiter` blocks, as the runner reads them. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([\w-]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
    out[m[1]!] = value.join('\n');
  }
  return out;
}

function expectNoSecret(run: ActionRun): void {
  const visible = JSON.stringify(run.outputs) + run.summary;
  expect(visible).not.toContain(FUNCTION_KEY);
  expect(visible).not.toContain(sandbox.azurite.connectionString);
  expect(visible).not.toMatch(/AccountKey=|sig=/);
}

describe('the GitHub Action against the sandbox', () => {
  it.concurrent('a release folder: packed, submitted, followed to Published; outputs, summary, exit 0', async () => {
    const PKG = 'Contoso.Demo_2.0.0.0_x64.msixupload';
    const folder = makeFolder(root, 'app-release', {
      'store.json': { target: { kind: 'app', applicationId: SEED_IDS.demoApp }, options: { waitFor: 'published' } },
      [PKG]: packageFor(PKG),
      'listings/en-us/releaseNotes.txt': 'From the action.\n',
    });
    // Through action/index.js, the file action.yml names: dist/ is built, so it runs it at once.
    const run = await runAction('1', { release: folder }, 'action/index.js');
    expect(run.code).toBe(0);
    expect(run.outputs).toEqual({
      'run-id': expect.stringMatching(/^zip-[0-9a-f]{40}$/),
      outcome: 'Succeeded',
      'submission-id': expect.stringMatching(/^\d{19}$/),
      'status-url': expect.stringMatching(/\/api\/submissions\/zip-[0-9a-f]{40}$/),
      'exit-code': '0',
    });
    expect(run.outputs['status-url']).toBe(`${sandbox.host.url}/api/submissions/${run.outputs['run-id']}`);
    expect(run.summary).toContain('## ✅ Microsoft Store submission: Succeeded');
    expect(run.summary).toContain(`| Run | ${run.outputs['run-id']} |`);
    expect(run.summary).toContain(`| Store submission | ${run.outputs['submission-id']} |`);
    expect(run.summary).toContain('| Store status | Published |');
    // The run's preview of what the submission changes: the new package and the release notes.
    expect(run.summary).toContain('### Preview');
    expect(run.summary).toMatch(/added package Contoso\.Demo_2\.0\.0\.0_x64\.msixupload/);
    expect(run.log).toContain(`::add-mask::${FUNCTION_KEY}`);
    expect(run.log).toContain('Packed ');
    // The zip went in under a name of this workflow run and attempt.
    const names: string[] = [];
    for await (const b of sandbox.submissions.listBlobsFlat()) names.push(b.name);
    expect(names).toContain('github/4242-1/app-release.zip');
    expectNoSecret(run);
  });

  it.concurrent(
    'a zip whose run fails certification: exit 1, Failed, the Store code and report in the summary',
    async () => {
      await sandbox.emulator.admin.fault({
        kind: 'certificationFailed',
        productId: SEED_IDS.tierApp,
        codes: ['InvalidMicrosoftAgeRating'],
        reportUrl: 'https://reports.example/action-cert',
      });
      const PKG = 'Contoso.ContosoTiered_2.0.0.0_x64.msixupload';
      const folder = makeFolder(root, 'tier-release', {
        'store.json': { target: { kind: 'app', applicationId: SEED_IDS.tierApp }, options: { waitFor: 'published' } },
        [PKG]: packageFor(PKG, { name: 'Contoso.ContosoTiered' }),
      });
      const run = await runAction('2', { release: folder });
      expect(run.code).toBe(1);
      expect(run.outputs).toMatchObject({ outcome: 'Failed', 'exit-code': '1' });
      expect(run.outputs['submission-id']).toMatch(/^\d{19}$/);
      expect(run.summary).toContain('## ❌ Microsoft Store submission: Failed');
      expect(run.summary).toContain('| InvalidMicrosoftAgeRating |');
      expect(run.summary).toContain('Certification report: https://reports.example/action-cert');
      expect(run.log).toMatch(/::error title=store-submitter \(Failed\)::/);
      expectNoSecret(run);
    },
  );

  it.concurrent('wait false: the run started, exit 0, outcome Started with its run id', async () => {
    const PKG = 'Contoso.ContosoBasic_2.0.0.0_x64.msixupload';
    const folder = makeFolder(root, 'basic-release', {
      'store.json': { target: { kind: 'app', applicationId: SEED_IDS.basicApp } },
      [PKG]: packageFor(PKG, { name: 'Contoso.ContosoBasic' }),
    });
    const run = await runAction('6', { release: folder, wait: 'false' });
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ outcome: 'Started', 'exit-code': '0', 'submission-id': '' });
    expect(run.outputs['run-id']).toMatch(/^zip-[0-9a-f]{40}$/);
    expect(run.summary).toContain('## ✅ Microsoft Store submission: Started');
    await sandbox.finished(run.outputs['run-id']!);
  });

  it.concurrent('input the pipeline refuses, or no input at all: exit 2, Rejected, nothing uploaded', async () => {
    const folder = makeFolder(root, 'bad-release', {
      'store.json': { target: { kind: 'app', applicationId: 'nope' } },
    });
    const bad = await runAction('3', { release: folder });
    expect(bad.code).toBe(2);
    expect(bad.outputs).toMatchObject({ outcome: 'Rejected', 'exit-code': '2', 'run-id': '' });
    expect(bad.log).toContain('bad-release/store.json');
    for await (const b of sandbox.submissions.listBlobsFlat()) expect(b.name).not.toMatch(/^github\/4242-3\//);
    const none = await runAction('4', { 'functions-url': '' });
    expect(none.code).toBe(2);
    expect(none.summary).toContain('input release is required');
    const wrong = await runAction('5', { release: folder, timeout: 'soon' });
    expect(wrong.code).toBe(2);
    expect(wrong.summary).toContain('input timeout must be a duration');
  });

  it('action.yml: a node24 action whose inputs and outputs are the ones the entry reads and writes', () => {
    // GitHub removed Node 20 from its runners on 2026-09-16 (github.blog changelog 2025-09-19): node24.
    const yml = readFileSync(join(REPO, 'action.yml'), 'utf8');
    expect(yml).toMatch(/^runs:\n {2}using: node24\n {2}main: action\/index\.js$/m);
    const section = (name: string): string[] => {
      const body = new RegExp(`^${name}:\\n((?: .*\\n)+)`, 'm').exec(yml)?.[1] ?? '';
      return [...body.matchAll(/^ {2}([a-z-]+):$/gm)].map((m) => m[1]!);
    };
    const source = readFileSync(join(REPO, 'action', 'main.ts'), 'utf8');
    const read = [...source.matchAll(/(?:input|booleanInput)\(env, '([a-z-]+)'/g)].map((m) => m[1]!);
    expect(section('inputs').sort()).toEqual([...new Set(read)].sort());
    expect(section('outputs').sort()).toEqual(['exit-code', 'outcome', 'run-id', 'status-url', 'submission-id']);
  });

  it('the OIDC token comes from the runner with the audience Azure AD exchanges', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ value: 'the-oidc-token' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
      const token = await workflowOidcToken({
        ACTIONS_ID_TOKEN_REQUEST_URL: url,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
      });
      expect(token).toBe('the-oidc-token');
      expect(seen).toEqual(['/token?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange bearer request-token']);
    } finally {
      server.close();
    }
  });
});
