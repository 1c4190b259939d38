/**
 * POST /api/webhooks/grades, in the README's order: secret unset 503; body over 1 MiB 413;
 * signature 401; JSON or schema 400 with zod issues; delivery id seen 200 duplicate; unknown triple
 * 422; else 202. All or nothing (recordScores runs in one transaction).
 */
import { z } from "zod";
import { env } from "../env";
import { errorFields, log } from "../log";
import { ltiId } from "../validation";
import { issuesOf, scoreEntrySchema } from "./entry";
import { recordScores, UnknownTripleError, type ChangedContext } from "./record";
import { verifySignature } from "./signature";

export const MAX_BODY_BYTES = 1_048_576;

export const webhookBodySchema = z.object({
  id: ltiId(),
  scores: z.array(scoreEntrySchema).min(1).max(1000),
});

export interface WebhookAnswer {
  status: number;
  body: unknown;
  /** Contexts whose scores changed: the caller asks for their push. */
  changed?: ChangedContext[];
}

class TooLarge extends Error {}

/** Reads at most MAX_BODY_BYTES (+1 to detect more) without trusting Content-Length alone. */
async function readCapped(req: Request): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw new TooLarge();
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new TooLarge();
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

export async function receiveGradeWebhook(req: Request, now = new Date()): Promise<WebhookAnswer> {
  const secret = env().graderWebhookSecret;
  if (!secret) return { status: 503, body: { error: "webhook_not_configured" } };
  let raw: Uint8Array;
  try {
    raw = await readCapped(req);
  } catch (error) {
    if (error instanceof TooLarge) return { status: 413, body: { error: "body_too_large", maxBytes: MAX_BODY_BYTES } };
    throw error;
  }
  const check = verifySignature(req.headers.get("x-grader-signature"), secret, raw, Math.floor(now.getTime() / 1000));
  if (!check.ok) return { status: 401, body: { error: "invalid_signature", reason: check.reason } };

  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(raw).toString("utf8"));
  } catch {
    return { status: 400, body: { error: "invalid_body", issues: [{ path: [], message: "body is not valid JSON" }] } };
  }
  const parsed = webhookBodySchema.safeParse(json);
  if (!parsed.success) return { status: 400, body: { error: "invalid_body", issues: issuesOf(parsed.error) } };

  try {
    const r = await recordScores(parsed.data.scores, { source: "webhook", deliveryId: parsed.data.id, now });
    if (r.duplicate) return { status: 200, body: { duplicate: true } };
    log.info("webhook.accepted", { deliveryId: parsed.data.id, accepted: r.accepted, applied: r.applied });
    return { status: 202, body: { accepted: r.accepted }, changed: r.changed };
  } catch (error) {
    if (error instanceof UnknownTripleError) return { status: 422, body: { error: "unknown_triple", unknown: error.unknown } };
    log.error("webhook.failed", { deliveryId: parsed.data.id, ...errorFields(error) });
    throw error;
  }
}
