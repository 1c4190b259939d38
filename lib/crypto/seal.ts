/**
 * Service keys at rest: JWE compact, `dir` + `A256GCM`, the key id and a hash of the triple in the
 * protected header. GCM authenticates the header, so a sealed value copied onto another row (another
 * triple) fails to open, and so does one sealed under a key no longer listed.
 */
import { createHash } from "node:crypto";
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from "jose";
import { env } from "../env";

export interface Triple {
  platformId: string;
  contextId: string;
  resourceLinkId: string;
}

export class SealError extends Error {
  constructor(readonly reason: "unknown_key" | "wrong_row" | "corrupt") {
    super(
      {
        unknown_key: "sealed service key was sealed under a key not in ENCRYPTION_KEYS",
        wrong_row: "sealed service key belongs to another (platform, context, resource link)",
        corrupt: "sealed service key could not be opened (corrupt or tampered)",
      }[reason],
    );
    this.name = "SealError";
  }
}

interface Keyring {
  newest: { id: string; key: Uint8Array };
  byId: Map<string, Uint8Array>;
}

const keyrings = new Map<string, Keyring>();

/** A key's public id: a short hash, so the header names the key without revealing it. */
export function keyIdOf(base64urlKey: string): string {
  return createHash("sha256").update(Buffer.from(base64urlKey, "base64url")).digest("base64url").slice(0, 12);
}

function keyring(keys: string[]): Keyring {
  const cacheKey = keys.join(",");
  let ring = keyrings.get(cacheKey);
  if (!ring) {
    const entries = keys.map((k) => [keyIdOf(k), new Uint8Array(Buffer.from(k, "base64url"))] as const);
    ring = { newest: { id: entries[0][0], key: entries[0][1] }, byId: new Map(entries) };
    keyrings.set(cacheKey, ring);
  }
  return ring;
}

function binding(t: Triple): string {
  // Length-prefixed so ("a|b","c") and ("a","b|c") differ.
  const parts = [t.platformId, t.contextId, t.resourceLinkId].map((p) => `${p.length}:${p}`).join("|");
  return createHash("sha256").update(parts).digest("base64url");
}

export async function seal(
  plaintext: string,
  triple: Triple,
  keys: string[] = env().encryptionKeys,
): Promise<{ sealed: string; keyId: string }> {
  const { newest } = keyring(keys);
  const sealed = await new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: newest.id, gsb: binding(triple) })
    .encrypt(newest.key);
  return { sealed, keyId: newest.id };
}

export async function open(sealed: string, triple: Triple, keys: string[] = env().encryptionKeys): Promise<string> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(sealed);
  } catch {
    throw new SealError("corrupt");
  }
  const key = typeof header.kid === "string" ? keyring(keys).byId.get(header.kid) : undefined;
  if (!key) throw new SealError("unknown_key");
  if (header.gsb !== binding(triple)) throw new SealError("wrong_row");
  try {
    const { plaintext } = await compactDecrypt(sealed, key, { contentEncryptionAlgorithms: ["A256GCM"], keyManagementAlgorithms: ["dir"] });
    return new TextDecoder().decode(plaintext);
  } catch {
    throw new SealError("corrupt");
  }
}

/** The id of the key that seals now (rows with another key id need re-sealing). */
export function currentKeyId(keys: string[] = env().encryptionKeys): string {
  return keyring(keys).newest.id;
}
