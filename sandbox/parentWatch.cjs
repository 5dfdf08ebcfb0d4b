// Preloaded (`node --require`) into a sandbox child process that cannot watch its parent by
// itself (Azurite): the child ends when its parent dies, by any signal, SIGKILL included.
//
// The parent holds the write end of the child's stdin. The kernel closes it when the parent
// dies, however it dies, and the child then reads end-of-file. Polling process.ppid backs that
// up where stdin is not ours to read. Plain CommonJS, so it loads without a build step.
'use strict';

if (process.env.SANDBOX_WATCH_PARENT === '1') {
  const parent = process.ppid;
  const graceMs = 3000;
  let ending = false;
  const end = () => {
    if (ending) return;
    ending = true;
    // The child's own SIGTERM handling first (Azurite closes its servers), then no more waiting.
    setTimeout(() => process.exit(0), graceMs).unref();
    process.kill(process.pid, 'SIGTERM');
  };
  process.stdin.on('end', end);
  process.stdin.on('close', end);
  process.stdin.on('error', end);
  process.stdin.resume();
  setInterval(() => {
    if (process.ppid !== parent) end();
  }, 500).unref();
}
