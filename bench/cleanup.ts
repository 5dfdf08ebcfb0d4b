/**
 * Stops what the benchmarks started (Azurite, the emulator, the host) when the run is
 * interrupted, so no server outlives it. Each benchmark registers its stop functions while they
 * are needed; `npm run bench` runs them on SIGINT and SIGTERM.
 */
const pending = new Set<() => Promise<void>>();

export function whileRunning(stop: () => Promise<void>): () => void {
  pending.add(stop);
  return () => void pending.delete(stop);
}

export async function stopEverything(): Promise<void> {
  const all = [...pending];
  pending.clear();
  await Promise.all(all.map((s) => s().catch(() => undefined)));
}
