/**
 * Loads a Function App folder the way the Node worker does (package.json `main` as a glob, the
 * `@azure/functions-core` module the worker provides) and prints what it registered, as JSON:
 *
 *   node dist/test/helpers/loadApp.js <app folder>
 *
 * Run as a child process: installing the core module patches `require` for the whole process.
 */
import { Worker } from '../../sandbox/host/core';
import { Logger } from '../../sandbox/host/log';

async function main(): Promise<void> {
  const appDir = process.argv[2];
  if (!appDir) throw new Error('usage: loadApp.js <app folder>');
  const worker = new Worker(new Logger(() => {}), appDir);
  worker.installCoreModule();
  const files = await worker.loadApp();
  const functions = [...worker.functions.values()].map((f) => ({
    name: f.name,
    trigger: f.trigger.type,
    // what each binding names in app settings: a connection, or %SETTING% in a path or a timer schedule
    connections: Object.values(f.metadata.bindings)
      .map((b) => b.connection)
      .filter((c): c is string => typeof c === 'string'),
    paths: Object.values(f.metadata.bindings)
      .flatMap((b) => [b.path, b.schedule])
      .filter((p): p is string => typeof p === 'string'),
  }));
  process.stdout.write(JSON.stringify({ files, functions }));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
