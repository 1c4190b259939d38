import { describe, expect, it } from "vitest";
import { keyIdOf, open, seal, SealError } from "@/lib/crypto/seal";
import { TEST_KEYS } from "../support/env";

const triple = { platformId: "p1", contextId: "c1", resourceLinkId: "r1" };
const [newKey, oldKey] = TEST_KEYS.encryption;

describe("sealing service keys", () => {
  it("round-trips and never contains the plaintext", async () => {
    const { sealed, keyId } = await seal("svc-key-plaintext", triple, [newKey]);
    expect(sealed).not.toContain("svc-key-plaintext");
    expect(Buffer.from(sealed.split(".")[0], "base64url").toString()).not.toContain("svc-key");
    expect(keyId).toBe(keyIdOf(newKey));
    await expect(open(sealed, triple, [newKey])).resolves.toBe("svc-key-plaintext");
  });

  it("opens with any listed key and seals with the newest", async () => {
    const old = await seal("k", triple, [oldKey]);
    await expect(open(old.sealed, triple, [newKey, oldKey])).resolves.toBe("k");
    const fresh = await seal("k", triple, [newKey, oldKey]);
    expect(fresh.keyId).toBe(keyIdOf(newKey));
    await expect(open(fresh.sealed, triple, [oldKey])).rejects.toMatchObject({ reason: "unknown_key" });
  });

  it("is bound to its triple: copied onto another row it fails", async () => {
    const { sealed } = await seal("k", triple, [newKey]);
    for (const other of [
      { ...triple, platformId: "p2" },
      { ...triple, contextId: "c2" },
      { ...triple, resourceLinkId: "r2" },
      { platformId: "p1|c1", contextId: "", resourceLinkId: "r1" },
    ]) {
      await expect(open(sealed, other, [newKey])).rejects.toBeInstanceOf(SealError);
    }
  });

  it("rejects a tampered header or ciphertext without echoing it", async () => {
    const { sealed } = await seal("secret-value", triple, [newKey]);
    const parts = sealed.split(".");
    const header = JSON.parse(Buffer.from(parts[0], "base64url").toString());
    const forged = [Buffer.from(JSON.stringify({ ...header, gsb: "x" })).toString("base64url"), ...parts.slice(1)].join(".");
    await expect(open(forged, triple, [newKey])).rejects.toMatchObject({ reason: "wrong_row" });
    const flipped = [...parts];
    flipped[3] = flipped[3].slice(0, -2) + (flipped[3].endsWith("AA") ? "AB" : "AA");
    const err = await open(flipped.join("."), triple, [newKey]).catch((e) => e);
    expect(err).toBeInstanceOf(SealError);
    expect(String(err.message)).not.toContain("secret-value");
    await expect(open("garbage", triple, [newKey])).rejects.toMatchObject({ reason: "corrupt" });
  });
});
