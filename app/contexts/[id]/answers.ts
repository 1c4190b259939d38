/**
 * The two buttons keep separate action states; the status line shows the answer to the last press.
 * A per-button counter cannot order answers across the buttons (Sync, Retry, Retry, Sync leaves both
 * at 2), so `seq` is the answer's time, kept strictly growing per button.
 */
export interface Answer {
  seq: number;
}

export function nextSeq(prev: number, now = Date.now()): number {
  return Math.max(prev + 1, now);
}

export function latestAnswer<T extends Answer>(sync: T, retry: T): T {
  return retry.seq > sync.seq ? retry : sync;
}
