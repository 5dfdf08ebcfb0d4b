/**
 * Child-process entry of the sandbox Functions host:
 *   node dist/sandbox/host/main.js --app <dir> [--port 7071] [--task-hub NAME] [--clock-speed N]
 *        [--blob-poll-ms MS] [--log-file PATH] [--no-keys] [--exit-with-parent]
 *        [--durable home|real] [--queue-polling-ms MS] [--work-item-visibility-ms MS]
 *        [--plan flex|premium|dedicated|consumption]
 * --exit-with-parent: stdin must be a pipe from the parent; its end-of-file stops the host.
 * App settings come from the environment, as in Azure. Keys are required as on Azure (--no-keys
 * opens every route, for tests of the host's other parts); the master key is read from
 * SANDBOX_HOST_MASTER_KEY when set (never from the command line, which `ps` shows).
 * Prints one JSON log line per event on stdout; the line with `"event":"ready"` says it serves.
 */
import { runHost, type Running } from './host';
import { Logger } from './log';
import { HOSTING_PLANS, isHostingPlan, type HostingPlan } from '../../lib/hostPlan';

interface Args {
  app?: string;
  port: number;
  taskHub?: string;
  clockSpeed: number;
  blobPollMs: number;
  logFile?: string;
  enforceKeys: boolean;
  exitWithParent: boolean;
  durable: 'home' | 'real';
  queuePollingMs?: number;
  workItemVisibilityMs?: number;
  plan?: HostingPlan;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    port: 7071,
    clockSpeed: 1,
    blobPollMs: 1000,
    enforceKeys: true,
    exitWithParent: false,
    durable: 'home',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const num = (): number => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number, got '${raw}'`);
      return n;
    };
    switch (flag) {
      case '--app':
        args.app = value();
        break;
      case '--port':
        args.port = num();
        break;
      case '--task-hub':
        args.taskHub = value();
        break;
      case '--clock-speed':
        args.clockSpeed = num();
        break;
      case '--blob-poll-ms':
        args.blobPollMs = num();
        break;
      case '--log-file':
        args.logFile = value();
        break;
      case '--enforce-keys':
        args.enforceKeys = true;
        break;
      case '--no-keys':
        args.enforceKeys = false;
        break;
      case '--exit-with-parent':
        args.exitWithParent = true;
        break;
      case '--durable': {
        const v = value();
        if (v !== 'home' && v !== 'real') throw new Error(`--durable is 'home' or 'real', got '${v}'`);
        args.durable = v;
        break;
      }
      case '--queue-polling-ms':
        args.queuePollingMs = num();
        break;
      case '--work-item-visibility-ms':
        args.workItemVisibilityMs = num();
        break;
      case '--plan': {
        const v = value();
        if (!isHostingPlan(v)) throw new Error(`--plan is one of ${HOSTING_PLANS.join(', ')}, got '${v}'`);
        args.plan = v;
        break;
      }
      default:
        throw new Error(`unknown argument '${flag}'`);
    }
  }
  return args;
}

async function main(): Promise<void> {
  let logger = new Logger((line) => process.stdout.write(line));
  let running: Running | undefined;
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // A stop that hangs (an open connection, a stuck invocation) must not keep an orphan alive.
    setTimeout(() => process.exit(code), 10_000).unref();
    try {
      await running?.stop();
    } finally {
      logger.info('Host', 'Host stopped');
      logger.close();
      process.exit(code);
    }
  };
  try {
    const args = parseArgs(process.argv.slice(2));
    if (!args.app) throw new Error('--app <folder> is required');
    logger = new Logger((line) => process.stdout.write(line), args.logFile);
    // The parent reads stdout; when it dies the pipe breaks (EPIPE). Without this listener the
    // error is uncaught, the uncaught-error handler logs it to stdout, which fails again: a loop.
    process.stdout.on('error', () => {
      logger.sinkClosed();
      logger.warn('Host', 'Host output stream closed (the parent process is gone); stopping');
      void shutdown(0);
    });
    process.stderr.on('error', () => undefined); // the same broken pipe; stdout's listener acts on it
    process.on('uncaughtException', (e) => {
      logger.log('critical', 'Worker', `Worker uncaught exception: ${e.stack ?? e.message}`);
      void shutdown(1);
    });
    process.on('unhandledRejection', (e) => {
      logger.log(
        'critical',
        'Worker',
        `Worker unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
      void shutdown(1);
    });
    if (args.exitWithParent) {
      // A parent that dies, by any signal, must not leave hosts polling storage behind it. The
      // parent holds the write end of our stdin: the kernel closes it whenever the parent dies,
      // and we read end-of-file at once. The parent-pid poll backs that up.
      const parentGone = (why: string): void => {
        if (stopping) return;
        logger.warn('Host', `Parent process gone (${why}); stopping`);
        void shutdown(0);
      };
      process.stdin.on('end', () => parentGone('its pipe closed'));
      process.stdin.on('error', () => parentGone('its pipe failed'));
      process.stdin.resume();
      const parent = process.ppid;
      setInterval(() => {
        if (process.ppid !== parent) parentGone(`parent ${parent} exited`);
      }, 1000).unref();
    }
    process.on('SIGTERM', () => void shutdown(0));
    process.on('SIGINT', () => void shutdown(0));
    // Keys are generated at start (--no-keys: none required); SANDBOX_HOST_MASTER_KEY, when set, is the master key.
    const enforceKeys = args.enforceKeys ? { masterKey: process.env.SANDBOX_HOST_MASTER_KEY || undefined } : undefined;
    running = await runHost(
      {
        appDir: args.app,
        port: args.port,
        taskHub: args.taskHub,
        clockSpeed: args.clockSpeed || 1,
        blobPollIntervalMs: args.blobPollMs || 1000,
        enforceKeys,
        durable: args.durable,
        queuePollingMs: args.queuePollingMs,
        workItemVisibilityMs: args.workItemVisibilityMs,
        plan: args.plan,
      },
      logger,
    );
    // The keys go to the parent on the ready line (which it keeps out of its log), as
    // `func start` prints them; the log file never gets them.
    logger.info('Host', `Host started: ${running.url}${running.keys ? ' (keys required)' : ''}`, {
      event: 'ready',
      url: running.url,
      port: running.port,
      pid: process.pid,
      ...(running.keys ? { keys: running.keys } : {}),
    });
  } catch (e) {
    logger.log('critical', 'Host', `Host start failed: ${e instanceof Error ? e.message : String(e)}`, {
      event: 'startFailed',
    });
    logger.close();
    process.exit(1);
  }
}

void main();
