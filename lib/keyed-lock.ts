/**
 * In-process mutual exclusion per key: calls for one key run one after another, other keys run
 * freely. Kept on globalThis so Next's dev reloads share one set of locks per name.
 */
export function keyedLock(name: string): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const holder = globalThis as unknown as Record<string, Map<string, Promise<unknown>> | undefined>;
  const slot = `__gradesyncLocks_${name}`;
  const locks = (holder[slot] ??= new Map());
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = locks.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    const tail = next.catch(() => undefined);
    locks.set(key, tail);
    try {
      return await next;
    } finally {
      if (locks.get(key) === tail) locks.delete(key);
    }
  };
}
