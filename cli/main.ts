#!/usr/bin/env node
/**
 * store-submitter: pack a release folder into a submission zip, validate it with the
 * pipeline's own checks, submit it and follow the run. Exit codes: see cli/errors.ts (EXIT).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, type ExitCode } from './errors';
import { Output, type Streams } from './output';
import type { RolloutAction } from './commands/rollout';
import { RAMP_ACTIONS, type RampAction } from '../lib/ramp';

const EXIT_HELP = `
Exit codes:
  0  the run succeeded (pack, validate: the zip is good; submit --no-wait: the run started)
  1  the run failed in the Store or in the pipeline, or was canceled
  2  the input was refused: release folder, zip, manifest or arguments (nothing was uploaded)
  3  storage or the Functions app could not be reached, or refused access
  4  --timeout passed before the run ended (the run goes on)`;

/** "90" (seconds), "500ms", "90s", "30m", "2h" → milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError('give a duration such as 90s, 30m or 2h');
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const ms = n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000);
  if (ms <= 0) throw new InvalidArgumentError('must be more than 0');
  return ms;
}

/** Where the Functions app is, its key, and --json: what every command that calls the app takes. */
function apiOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--functions-url <url>', 'base URL of the Functions app')
        .env('STORE_SUBMITTER_FUNCTIONS_URL')
        .default('http://127.0.0.1:7071'),
    )
    .addOption(
      new Option(
        '--function-key <key>',
        'a host key of the Functions app: the CLI calls several of its functions, and a function key opens only its own (sent as x-functions-key)',
      ).env('STORE_SUBMITTER_FUNCTION_KEY'),
    )
    .option('--json', 'print one JSON document on stdout (progress goes to stderr)');
}

/** The values of apiOptions' options. */
function apiValues(opts: Record<string, unknown>): { functionsUrl: string; functionKey: string | undefined } {
  return { functionsUrl: opts.functionsUrl as string, functionKey: opts.functionKey as string | undefined };
}

function serviceOptions(command: Command): Command {
  return apiOptions(command)
    .addOption(
      new Option('--poll-interval <duration>', 'time between status polls')
        .argParser(parseDuration)
        .default(2000, '2s'),
    )
    .addOption(
      new Option(
        '--timeout <duration>',
        'stop waiting after this long (exit 4); default: until the run ends',
      ).argParser(parseDuration),
    );
}

/** The values of serviceOptions' options. */
function serviceValues(
  opts: Record<string, unknown>,
): ReturnType<typeof apiValues> & { pollInterval: number; timeout: number | undefined } {
  return { ...apiValues(opts), pollInterval: opts.pollInterval as number, timeout: opts.timeout as number | undefined };
}

export function buildProgram(streams: Streams, done: (code: ExitCode) => void): Command {
  const output = (opts: { json?: unknown }): Output => new Output(opts.json === true, streams);
  const program = new Command('store-submitter')
    .description('Build, check and submit Microsoft Store submission zips, and follow their runs.')
    .version(version(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => streams.stdout.write(s),
      writeErr: (s) => streams.stderr.write(s),
    })
    .addHelpText('after', EXIT_HELP);

  program
    .command('pack')
    .description(
      "build a submission zip and its submission.json from a release folder, and check it with the pipeline's validation",
    )
    .argument('<folder>', 'release folder: store.json, packages at the root, listings/<language>/...')
    .option('-o, --output <zip>', 'zip to write (default: <folder>.zip beside the folder)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Release folder:
  store.json                      {"target": {...}, "options": {...}, "submission": {...}, "listingOnly": false}
  *.msixupload, *.msix, ...       the packages (app or flight)
  listings/<lang>/<field>.txt     title, description, releaseNotes, shortDescription, ... (one file per field)
  listings/<lang>/features.txt    one per line; also keywords, recommendedHardware, minimumHardware
  listings/<lang>/images/<ImageType>/*.png   images by type (a .txt of the same name is the caption)
  listings/<lang>/icon.png        an add-on's 300x300 icon
${EXIT_HELP}`,
    )
    .action(async (folder: string, opts: { output?: string; json?: boolean }) => {
      const { packCommand } = await import('./commands/pack');
      done(await packCommand(folder, opts, output(opts)));
    });

  apiOptions(
    program
      .command('validate')
      .description(
        "check a zip offline with the pipeline's own zip and manifest validation; prints every problem. With --against-store, then show what it would change against the Store's published submission",
      )
      .argument('<zip>', 'the submission zip')
      .option(
        '--against-store',
        'send the valid zip to the Functions app (POST /api/preview), which reads the Store and answers the preview; nothing is created or changed',
      ),
  )
    .addHelpText('after', EXIT_HELP)
    .action(async (zip: string, opts: Record<string, unknown>) => {
      const { validateCommand } = await import('./commands/validate');
      done(await validateCommand(zip, output(opts), opts.againstStore === true ? apiValues(opts) : undefined));
    });

  serviceOptions(
    program
      .command('submit')
      .description('validate, upload the zip to the submissions container, start its run and follow it to the end')
      .argument('<zip>', 'the submission zip')
      .addOption(
        new Option('--connection-string <cs>', 'connection string of the submissions storage').env(
          'SUBMISSIONS_STORAGE',
        ),
      )
      .addOption(
        new Option(
          '--account-url <url>',
          'blob endpoint of the storage account, signed in with DefaultAzureCredential (or a SAS URL)',
        ).env('SUBMISSIONS_STORAGE__blobServiceUri'),
      )
      .addOption(
        new Option('--container <name>', 'submissions container').env('SUBMISSIONS_CONTAINER').default('submissions'),
      )
      .option('--name <blob>', 'blob name for the zip (default: the file name)')
      .option('--overwrite', 'replace a blob of that name (a run still reading it would fail)')
      .option('--no-wait', 'return once the run has started'),
  )
    .addHelpText('after', EXIT_HELP)
    .action(async (zip: string, opts: Record<string, unknown>, command: Command) => {
      // An explicit --account-url wins over SUBMISSIONS_STORAGE from the environment.
      const fromEnv = command.getOptionValueSource('connectionString') === 'env';
      const accountUrl = opts.accountUrl as string | undefined;
      const connectionString = accountUrl && fromEnv ? undefined : (opts.connectionString as string | undefined);
      // Loaded on use: the storage and identity SDKs take longer to load than pack or validate take to run.
      const { submitCommand } = await import('./commands/submit');
      done(
        await submitCommand(
          zip,
          {
            connectionString,
            accountUrl:
              connectionString && command.getOptionValueSource('accountUrl') === 'env' ? undefined : accountUrl,
            container: opts.container as string,
            name: opts.name as string | undefined,
            overwrite: opts.overwrite === true,
            wait: opts.wait !== false,
            ...serviceValues(opts),
          },
          output(opts),
        ),
      );
    });

  serviceOptions(
    program
      .command('status')
      .description(
        'show the status document of a run, by run id or by the name of its zip in the container (the newest run)',
      )
      .argument('<run>', 'instance id (zip-...) or blob name (e.g. releases/1.2.3.zip)')
      .option('--wait', 'follow the run until it ends, and exit like submit'),
  )
    .addHelpText('after', EXIT_HELP)
    .action(async (run: string, opts: Record<string, unknown>) => {
      const { statusCommand } = await import('./commands/status');
      done(
        await statusCommand(
          run,
          {
            wait: opts.wait === true,
            ...serviceValues(opts),
          },
          output(opts),
        ),
      );
    });

  for (const approved of [true, false]) {
    const name = approved ? 'approve' : 'reject';
    const command = apiOptions(
      program
        .command(name)
        .description(
          approved
            ? 'approve a run waiting at the approval gate (options.commit "approval"): it commits its submission'
            : 'reject a run waiting at the approval gate: it deletes its submission and ends Rejected',
        )
        .argument('<run>', 'instance id (zip-...) or blob name (its newest run)'),
    );
    if (approved) command.option('--comment <text>', 'why, for the status and the report');
    else command.requiredOption('--reason <text>', 'why, for the status and the report');
    command
      .option('--by <name>', 'who decides (App Service authentication, when on, names the caller instead)')
      .addHelpText('after', EXIT_HELP)
      .action(async (ref: string, opts: Record<string, unknown>) => {
        const { decideCommand } = await import('./commands/approve');
        done(
          await decideCommand(
            approved,
            ref,
            {
              ...apiValues(opts),
              comment: opts.comment as string | undefined,
              reason: opts.reason as string | undefined,
              by: opts.by as string | undefined,
            },
            output(opts),
          ),
        );
      });
  }

  const rollout = program
    .command('rollout')
    .description(
      "read or change the package rollout of an app's or flight's published submission, outside any run (through the Functions app)",
    )
    .addHelpText(
      'after',
      `
<product> is an app's Store ID (9NBLGGH4R315) or a flight as <Store ID>/<flight id>.
The Store changes a rollout only while it is in progress; otherwise the command exits 1 with its refusal.`,
    );
  const rolloutActions: Array<[RolloutAction, string, string?]> = [
    ['status', 'show the rollout: its status, percentage and fallback submission'],
    ['set', 'set the percentage of customers who get the new packages', '<percentage>'],
    ['halt', 'stop the rollout: the percentage goes to 0, customers get the fallback submission'],
    ['finalize', 'complete the rollout: every customer gets the new packages'],
  ];
  for (const [action, description, value] of rolloutActions) {
    const sub = apiOptions(rollout.command(action).description(description).argument('<product>', 'app or flight'));
    if (value) sub.argument(value, 'from 0 to 100');
    sub.addHelpText('after', EXIT_HELP).action(async (product: string, ...rest: unknown[]) => {
      const percentage = value ? (rest[0] as string) : undefined;
      const opts = (value ? rest[1] : rest[0]) as Record<string, unknown>;
      const { rolloutCommand } = await import('./commands/rollout');
      done(await rolloutCommand(action, product, percentage, apiValues(opts), output(opts)));
    });
  }

  const ramp = program
    .command('ramp')
    .description(
      'halt, pause or resume the rollout ramp (options.rollout) of a run whose submission is published (through the Functions app)',
    )
    .addHelpText(
      'after',
      `
<run> is the run's instance id (zip-...) or its zip's blob name (its newest run). The ramp must be
running: halt works while it waits or is paused, pause while it waits, resume while it is paused;
otherwise the command exits 1 with the app's refusal.`,
    );
  const rampActions: Record<RampAction, string> = {
    halt: "stop for good: the Store's halt (0 %, customers get the fallback submission); the ramp ends",
    pause: 'hold the ramp: the rollout stays where it is, no step is applied until resume',
    resume: 'take a paused ramp up again: a step already due is applied at once',
  };
  for (const action of Object.keys(RAMP_ACTIONS) as RampAction[]) {
    apiOptions(
      ramp
        .command(action)
        .description(rampActions[action])
        .argument('<run>', 'instance id (zip-...) or blob name (its newest run)'),
    )
      .option('--by <name>', 'who asks (App Service authentication, when on, names the caller instead)')
      .addHelpText('after', EXIT_HELP)
      .action(async (ref: string, opts: Record<string, unknown>) => {
        const { rampCommand } = await import('./commands/ramp');
        done(await rampCommand(action, ref, { ...apiValues(opts), by: opts.by as string | undefined }, output(opts)));
      });
  }

  apiOptions(
    program
      .command('pull')
      .description(
        "write a release folder from a product's published submission (through the Functions app), for pack to read back",
      )
      .argument('<id>', 'app or add-on id (9NBLGGH4R315), or a flight id (a GUID, with --application-id)')
      .argument('<folder>', 'the release folder to write (new or empty)')
      .addOption(
        new Option(
          '--kind <kind>',
          'what the id is (default: a GUID is a flight; else an app, else an add-on)',
        ).choices(['app', 'flight', 'addon']),
      )
      .option('--application-id <id>', "a flight's app"),
  )
    .addHelpText('after', EXIT_HELP)
    .action(async (id: string, folder: string, opts: Record<string, unknown>) => {
      const { pullCommand } = await import('./commands/pull');
      done(
        await pullCommand(
          id,
          folder,
          {
            ...apiValues(opts),
            kind: opts.kind as string | undefined,
            applicationId: opts.applicationId as string | undefined,
          },
          output(opts),
        ),
      );
    });

  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const command of all(program)) command.exitOverride();
  return program;
}

function version(): string {
  // cli/main.ts and dist/cli/main.js sit at different depths below the package root.
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'store-submitter' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function run(
  argv: string[],
  streams: Streams = { stdout: process.stdout, stderr: process.stderr },
): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = buildProgram(streams, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with exitCode 0; every parsing error is a usage error.
      return e.exitCode === 0 ? EXIT.ok : EXIT.rejected;
    }
    streams.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.runFailed;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    // Exit once the output is flushed: an SDK's idle keep-alive socket must not hold a CI job open.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}
