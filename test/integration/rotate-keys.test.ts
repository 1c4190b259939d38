import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { keyIdOf, open, seal } from "@/lib/crypto/seal";
import { rotateKeys } from "@/lib/crypto/rotate";
import { serviceKeys } from "@/lib/db/schema";
import { recordLaunch } from "@/lib/launch/record";
import { useTestDb } from "../support/db";
import { TEST_KEYS } from "../support/env";

const db = useTestDb();
const [NEW, OLD] = TEST_KEYS.encryption;
const UNLISTED = Buffer.alloc(32, 9).toString("base64url");

async function launchWithKey(i: number, sealingKeys: string[]) {
  const triple = { platformId: "p", contextId: `c${i}`, resourceLinkId: `r${i}` };
  const sealed = await seal(`service-key-${i}`, triple, sealingKeys);
  const refs = await recordLaunch(db.db, {
    platform: { id: "p" },
    context: { id: triple.contextId },
    resourceLink: { id: triple.resourceLinkId },
    user: { id: `u${i}` },
    roles: ["Instructor"],
    kind: "teacher",
    testUser: false,
    sealedKey: { ...sealed, hasAgs: true, hasNrps: true },
  });
  return { triple, refs };
}

it("re-seals every key under the newest key, so the old key can be dropped", async () => {
  const launched = [];
  for (let i = 0; i < 5; i++) launched.push(await launchWithKey(i, i < 3 ? [OLD] : [NEW]));
  const lost = await launchWithKey(9, [UNLISTED]);

  const progress: number[] = [];
  const result = await rotateKeys(db.db, { keys: [NEW, OLD], batchSize: 2, onProgress: (n) => progress.push(n) });
  expect(result).toEqual({ resealed: 3, current: 2, unreadable: 1 });
  expect(progress.at(-1)).toBe(6);

  for (const { triple, refs } of launched) {
    const [row] = await db.db.select().from(serviceKeys).where(eq(serviceKeys.resourceLinkRef, refs.resourceLinkRef));
    expect(row.keyId).toBe(keyIdOf(NEW));
    // Opens with the new key alone: the old one is no longer needed.
    await expect(open(row.sealed, triple, [NEW])).resolves.toBe(`service-key-${triple.contextId.slice(1)}`);
  }
  const [unreadable] = await db.db.select().from(serviceKeys).where(eq(serviceKeys.resourceLinkRef, lost.refs.resourceLinkRef));
  expect(unreadable).toMatchObject({ state: "needs_relaunch", stateReason: "key_unreadable" });

  // Running it again changes nothing.
  expect(await rotateKeys(db.db, { keys: [NEW, OLD] })).toEqual({ resealed: 0, current: 5, unreadable: 1 });
});
