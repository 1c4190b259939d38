/**
 * The inline engine's fan-out: units of one platform a few at a time, platforms side by side (they do
 * not wait on each other, as in the platform gate). A flat queue a few units wide would hold a
 * hundred platforms to the first few in its order while the others sat idle.
 */

/** Runs every item, at most `perKey` of one key at a time, in order within a key; keys side by side. */
export async function fanOut<T>(items: readonly T[], keyOf: (item: T) => string, perKey: number, run: (item: T) => Promise<void>): Promise<void> {
  const queues = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const queue = queues.get(key);
    if (queue) queue.push(item);
    else queues.set(key, [item]);
  }
  const width = Math.max(1, Math.floor(perKey));
  await Promise.all(
    [...queues.values()].flatMap((queue) => {
      // A cursor rather than shift(): a platform may have thousands of units.
      let next = 0;
      return Array.from({ length: Math.min(width, queue.length) }, async () => {
        while (next < queue.length) await run(queue[next++]);
      });
    }),
  );
}
