/**
 * Re-seals every service key under the newest ENCRYPTION_KEYS entry, so an old key can then be
 * dropped from the list. Each row is updated only if it still holds the value we read: a launch that
 * overwrote the key meanwhile already sealed it under the newest key.
 */
import { and, asc, eq, gt, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { contexts, platforms, resourceLinks, serviceKeys } from "../db/schema";
import { env } from "../env";
import { currentKeyId, open, seal, SealError } from "./seal";

export interface RotateResult {
  resealed: number;
  /** Rows already under the newest key. */
  current: number;
  /** Rows that no listed key opens: their context needs a relaunch to get a fresh key. */
  unreadable: number;
}

export async function rotateKeys(
  db: Db,
  options: { keys?: string[]; batchSize?: number; onProgress?: (done: number) => void } = {},
): Promise<RotateResult> {
  const keys = options.keys ?? env().encryptionKeys;
  const newest = currentKeyId(keys);
  const batchSize = options.batchSize ?? 200;
  const result: RotateResult = { resealed: 0, current: 0, unreadable: 0 };
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const rows = await db
      .select({
        ref: serviceKeys.resourceLinkRef,
        sealed: serviceKeys.sealed,
        keyId: serviceKeys.keyId,
        platformId: platforms.platformId,
        contextId: contexts.contextId,
        resourceLinkId: resourceLinks.resourceLinkId,
      })
      .from(serviceKeys)
      .innerJoin(resourceLinks, eq(resourceLinks.id, serviceKeys.resourceLinkRef))
      .innerJoin(contexts, eq(contexts.id, resourceLinks.contextRef))
      .innerJoin(platforms, eq(platforms.id, contexts.platformRef))
      .where(gt(serviceKeys.resourceLinkRef, after))
      .orderBy(asc(serviceKeys.resourceLinkRef))
      .limit(batchSize);
    if (rows.length === 0) break;
    after = rows[rows.length - 1].ref;
    for (const row of rows) {
      if (row.keyId === newest) {
        result.current++;
        continue;
      }
      const triple = { platformId: row.platformId, contextId: row.contextId, resourceLinkId: row.resourceLinkId };
      let plaintext: string;
      try {
        plaintext = await open(row.sealed, triple, keys);
      } catch (error) {
        if (!(error instanceof SealError)) throw error;
        result.unreadable++;
        await db
          .update(serviceKeys)
          .set({ state: "needs_relaunch", stateReason: "key_unreadable", stateChangedAt: new Date() })
          .where(and(eq(serviceKeys.resourceLinkRef, row.ref), eq(serviceKeys.sealed, row.sealed), ne(serviceKeys.state, "needs_relaunch")));
        continue;
      }
      const next = await seal(plaintext, triple, keys);
      const updated = await db
        .update(serviceKeys)
        .set({ sealed: next.sealed, keyId: next.keyId })
        .where(and(eq(serviceKeys.resourceLinkRef, row.ref), eq(serviceKeys.sealed, row.sealed)))
        .returning({ ref: serviceKeys.resourceLinkRef });
      // Nothing updated: a launch replaced the key meanwhile, sealing it under the newest key.
      if (updated.length) result.resealed++;
      else result.current++;
    }
    options.onProgress?.(result.resealed + result.current + result.unreadable);
  }
  return result;
}
