/**
 * The order in which the inline engine starts a fan-out's units, `width` at a time: next, the first
 * queued unit of the platform with the fewest units running now. Units come ordered by platform, and
 * each platform sends at most its window of requests at once: started in that order, one platform's
 * many contexts would hold every slot of the fan-out while the other platforms, idle, wait their turn
 * (a reconcile of 10 platforms × 10 contexts ran 4 requests in flight of 20).
 */
export async function runFanOut<E>(events: readonly E[], width: number, platformOf: (e: E) => string, run: (e: E) => Promise<void>): Promise<void> {
  const queue = [...events];
  const running = new Map<string, number>();
  const take = (): E | undefined => {
    let best = -1;
    let least = Infinity;
    for (let i = 0; i < queue.length && least > 0; i++) {
      const n = running.get(platformOf(queue[i])) ?? 0;
      if (n < least) [best, least] = [i, n];
    }
    return best < 0 ? undefined : queue.splice(best, 1)[0];
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(width, queue.length)) }, async () => {
      for (let e = take(); e !== undefined; e = take()) {
        const platform = platformOf(e);
        running.set(platform, (running.get(platform) ?? 0) + 1);
        try {
          await run(e);
        } finally {
          running.set(platform, running.get(platform)! - 1);
        }
      }
    }),
  );
}
