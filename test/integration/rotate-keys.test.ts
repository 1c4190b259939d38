import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { keyIdOf, open, seal } from "@/lib/crypto/seal";
import { rotateKeys } from "@/lib/crypto/rotate";
import type { Db } from "@/lib/db/client";
import { serviceKeys } from "@/lib/db/schema";
import { recordLaunch } from "@/lib/launch/record";
import { truncateAll, useTestDb } from "../support/db";
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

/** The database, with `hook` run once right after the first batch of rows is read. */
function afterFirstRead(real: Db, hook: () => Promise<void>): Db {
  let done = false;
  const wrap = (builder: object): object =>
    new Proxy(builder, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "then") {
          return (onOk: (v: unknown) => unknown, onErr: (e: unknown) => unknown) =>
            (value as (a: unknown, b: unknown) => Promise<unknown>)
              .call(target, async (rows: unknown) => {
                if (!done) {
                  done = true;
                  await hook();
                }
                return rows;
              }, undefined)
              .then(onOk, onErr);
        }
        return typeof value === "function" ? (...args: unknown[]) => wrap(value.apply(target, args)) : value;
      },
    });
  return new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "select") return (...args: unknown[]) => wrap((value as (...a: unknown[]) => object).apply(target, args));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

it("never overwrites a key a launch replaced while the rotation ran", async () => {
  await truncateAll(db.db);
  const { triple, refs } = await launchWithKey(1, [OLD]);
  const rotating = afterFirstRead(db.db, async () => {
    // The launch after the rotation read the row: a fresh key, sealed under the newest key.
    const fresh = await seal("service-key-fresh", triple, [NEW, OLD]);
    await db.db.update(serviceKeys).set({ sealed: fresh.sealed, keyId: fresh.keyId }).where(eq(serviceKeys.resourceLinkRef, refs.resourceLinkRef));
  });
  expect(await rotateKeys(rotating, { keys: [NEW, OLD] })).toEqual({ resealed: 0, current: 1, unreadable: 0 });
  const [row] = await db.db.select().from(serviceKeys).where(eq(serviceKeys.resourceLinkRef, refs.resourceLinkRef));
  await expect(open(row.sealed, triple, [NEW])).resolves.toBe("service-key-fresh");
});
