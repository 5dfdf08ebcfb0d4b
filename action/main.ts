/**
 * The GitHub Action (action.yml at the repository root; action/index.js builds and starts this
 * file). It is the CLI: the inputs become `pack` (for a release folder) and `submit` options,
 * the run's JSON result becomes the step's outputs and job summary, and the process exits with
 * the CLI's exit code (README "Exit codes"), so a failed certification fails the job.
 *
 * Runner protocol (docs.github.com, "Metadata syntax for GitHub Actions" and "Workflow commands"):
 * inputs arrive as INPUT_<NAME> (upper case, spaces as underscores, hyphens kept); outputs are
 * appended to the file GITHUB_OUTPUT, the summary to GITHUB_STEP_SUMMARY (Markdown); `::add-mask::`
 * hides a value in the log; `::error::` annotates the run.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { TokenCredential } from '@azure/core-auth';
import { packCommand } from '../cli/commands/pack';
import { submitCommand } from '../cli/commands/submit';
import { EXIT, type ExitCode } from '../cli/errors';
import { parseDuration } from '../cli/main';
import { Output } from '../cli/output';
import { previewLines } from '../lib/preview';
import type { StatusDocument } from '../lib/statusDocument';

type Env = Record<string, string | undefined>;

/** An input as the runner passes it; undefined when empty. */
export function input(env: Env, name: string): string | undefined {
  const key = name.toUpperCase().replace(/ /g, '_');
  const value = env[`INPUT_${key}`] ?? env[`INPUT_${key.replace(/-/g, '_')}`];
  return value?.trim() ? value.trim() : undefined;
}

/** A boolean input: true, false (YAML 1.2 core schema words, as @actions/core's getBooleanInput takes). */
function booleanInput(env: Env, name: string, fallback: boolean): boolean {
  const value = input(env, name);
  if (value === undefined) return fallback;
  if (/^(true|True|TRUE)$/.test(value)) return true;
  if (/^(false|False|FALSE)$/.test(value)) return false;
  throw new ActionInputError(`input ${name} must be true or false, not "${value}"`);
}

class ActionInputError extends Error {}

/**
 * A credential from the workflow's own OIDC token (`permissions: id-token: write`), exchanged
 * for an Azure AD token of the app registration `clientId`, which trusts the repository through
 * a federated credential: no secret anywhere. The token comes from ACTIONS_ID_TOKEN_REQUEST_URL
 * with the audience Azure AD expects (api://AzureADTokenExchange).
 */
export async function githubOidcCredential(env: Env, tenantId: string, clientId: string): Promise<TokenCredential> {
  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
    throw new ActionInputError(
      'client-id and tenant-id sign in with the workflow\'s OIDC token, which this job cannot get: give the job "permissions: id-token: write"',
    );
  const { ClientAssertionCredential } = await import('@azure/identity');
  return new ClientAssertionCredential(tenantId, clientId, () => workflowOidcToken(env));
}

/** The workflow's OIDC token for Azure AD, from the runner's token endpoint. */
export async function workflowOidcToken(env: Env): Promise<string> {
  const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL ?? '');
  url.searchParams.set('audience', 'api://AzureADTokenExchange');
  const res = await fetch(url, {
    headers: { authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? ''}`, accept: 'application/json' },
  });
  const body = (await res.json().catch(() => ({}))) as { value?: unknown };
  if (!res.ok || typeof body.value !== 'string')
    throw new Error(`the runner's OIDC token endpoint answered HTTP ${res.status} without a token`);
  return body.value;
}

interface SubmitResult {
  instanceId?: string;
  statusUrl?: string;
  exitCode?: number;
  started?: boolean;
  status?: StatusDocument | null;
  error?: { code?: string; message?: string };
}

/** Writes `name=value` lines in the runner's multi-line form, so no value can end an output early. */
function setOutputs(env: Env, outputs: Record<string, string>): void {
  const file = env.GITHUB_OUTPUT;
  if (!file) return;
  const text = Object.entries(outputs)
    .map(([name, value]) => {
      const delimiter = `ghadelimiter_${Math.random().toString(36).slice(2)}`;
      return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    })
    .join('');
  appendFileSync(file, text);
}

function cell(value: string | number | undefined): string {
  return String(value ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

/** The job summary: the outcome first, then what the Store said and where to look. */
export function summaryOf(result: SubmitResult, zip: string, exitCode: ExitCode): string {
  const doc = result.status ?? undefined;
  const outcome = outcomeOf(result, exitCode);
  const icon = exitCode === EXIT.ok ? '✅' : exitCode === EXIT.timedOut ? '⏳' : '❌';
  const lines = [`## ${icon} Microsoft Store submission: ${outcome}`, '', '| | |', '| --- | --- |'];
  const row = (name: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== null && value !== '') lines.push(`| ${name} | ${cell(value)} |`);
  };
  row('Zip', basename(zip));
  if (doc?.product) row('Product', `${doc.product.kind} ${Object.values(doc.product).slice(1).join(' ')}`);
  row('Run', result.instanceId);
  row('Store submission', doc?.submissionId);
  row('Store status', doc?.storeStatus);
  row('Phase', doc?.phase);
  row('Status', result.statusUrl ? `[status document](${result.statusUrl})` : undefined);
  row('Exit code', exitCode);
  if (result.error?.message) lines.push('', `**Error:** ${cell(result.error.message)}`);
  if (doc?.failure) {
    lines.push(
      '',
      `**${cell(doc.failure.facts.code ?? 'Failure')} at ${cell(doc.failure.step)}:** ${cell(doc.failure.message)}`,
    );
    if (doc.failure.advice) lines.push('', cell(doc.failure.advice));
  }
  const issues = [...(doc?.storeErrors ?? []), ...(doc?.storeWarnings ?? [])];
  if (issues.length) {
    lines.push('', '| Store code | details |', '| --- | --- |');
    for (const i of issues) lines.push(`| ${cell(i.code)} | ${cell(i.details)} |`);
  }
  for (const r of doc?.certificationReports ?? []) lines.push('', `Certification report: ${r.reportUrl}`);
  if (doc?.preview) lines.push('', '### Preview', '', '```', ...previewLines(doc.preview), '```');
  return `${lines.join('\n')}\n`;
}

function outcomeOf(result: SubmitResult, exitCode: ExitCode): string {
  if (exitCode === EXIT.timedOut) return 'TimedOut';
  if (result.status?.outcome) return result.status.outcome;
  if (result.started !== undefined) return 'Started';
  if (result.error) return exitCode === EXIT.rejected ? 'Rejected' : 'Failed';
  return result.status?.status ?? 'Failed';
}

/** Runs the action; resolves to the exit code. `log` is the step's log (stdout of the process). */
export async function runAction(
  env: Env = process.env,
  log: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const say = (text: string): void => void log.write(`${text}\n`);
  const streams = { stdout: log, stderr: log };
  let zip = input(env, 'release') ?? '';
  let code: ExitCode;
  let result: SubmitResult = {};
  try {
    const functionKey = input(env, 'function-key');
    const connectionString = input(env, 'connection-string');
    for (const secret of [functionKey, connectionString]) if (secret) say(`::add-mask::${secret}`);
    if (!zip) throw new ActionInputError('input release is required: a release folder or a submission zip');
    const functionsUrl = input(env, 'functions-url');
    if (!functionsUrl)
      throw new ActionInputError('input functions-url is required: the Functions app, https://<app>.azurewebsites.net');
    const accountUrl = input(env, 'storage-account-url');
    if (!accountUrl && !connectionString)
      throw new ActionInputError(
        "give storage-account-url (signed in with the workflow's identity) or connection-string",
      );
    const timeoutText = input(env, 'timeout');
    let timeout: number | undefined;
    try {
      timeout = timeoutText ? parseDuration(timeoutText) : undefined;
    } catch {
      throw new ActionInputError(`input timeout must be a duration such as 90s, 30m or 2h, not "${timeoutText}"`);
    }
    const wait = booleanInput(env, 'wait', true);
    const clientId = input(env, 'client-id');
    const tenantId = input(env, 'tenant-id');
    const credential =
      accountUrl && clientId && tenantId ? await githubOidcCredential(env, tenantId, clientId) : undefined;

    const info = await stat(zip).catch(() => undefined);
    if (info?.isDirectory()) {
      const dir = await mkdtemp(join(env.RUNNER_TEMP ?? tmpdir(), 'store-submitter-'));
      const packed = join(dir, `${basename(resolve(zip))}.zip`);
      const packCode = await packCommand(zip, { output: packed }, new Output(false, streams));
      if (packCode !== EXIT.ok) {
        result = { error: { message: `the release folder ${zip} cannot be packed (the problems are in the log)` } };
        throw Object.assign(new Error('pack'), { exitCode: packCode });
      }
      zip = packed;
    }
    // A name per workflow run and attempt: a re-run uploads anew instead of meeting its own earlier zip.
    const name =
      input(env, 'blob-name') ??
      (env.GITHUB_RUN_ID ? `github/${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}/${basename(zip)}` : undefined);
    let json = '';
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        json += chunk.toString();
        done();
      },
    });
    code = await submitCommand(
      zip,
      {
        connectionString: accountUrl ? undefined : connectionString,
        accountUrl,
        credential,
        container: input(env, 'container') ?? 'submissions',
        name,
        overwrite: false,
        wait,
        functionsUrl,
        functionKey,
        pollInterval: parseDuration(input(env, 'poll-interval') ?? '10s'),
        timeout,
      },
      new Output(true, { stdout: capture, stderr: log }),
    );
    result = JSON.parse(json) as SubmitResult;
  } catch (e) {
    if (e instanceof ActionInputError) {
      result = { error: { message: e.message } };
      code = EXIT.rejected;
    } else if (typeof (e as { exitCode?: unknown }).exitCode === 'number') {
      code = (e as { exitCode: ExitCode }).exitCode;
    } else throw e;
  }
  const outcome = outcomeOf(result, code);
  setOutputs(env, {
    'run-id': result.instanceId ?? '',
    outcome,
    'submission-id': result.status?.submissionId ?? '',
    'status-url': result.statusUrl ?? '',
    'exit-code': String(code),
  });
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, summaryOf(result, zip, code));
  const message = result.error?.message ?? result.status?.failure?.message;
  if (code !== EXIT.ok) say(`::error title=store-submitter (${outcome})::${cell(message ?? `exit code ${code}`)}`);
  else say(`store-submitter: ${outcome}${result.instanceId ? `, run ${result.instanceId}` : ''}`);
  return code;
}

if (require.main === module) {
  void runAction().then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (e: unknown) => {
      process.stdout.write(`::error title=store-submitter::${cell(e instanceof Error ? e.message : String(e))}\n`);
      process.exit(EXIT.runFailed);
    },
  );
}
