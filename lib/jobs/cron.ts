/**
 * /api/cron/<job>: Vercel cron (and operators) start a job. Bearer CRON_SECRET, compared in
 * constant time; unset secret → 401 to everyone. With Inngest the route only enqueues (per-day event
 * id, a hash of the body for backfill); inline it runs the job and answers its summary, or 409 when
 * the same kind is already running in this process.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { env } from "../env";
import { errorFields, log } from "../log";
import { issuesOf } from "../grades/entry";
import { getDb } from "../db/client";
import { findUnknownTriples, UnknownTripleError } from "../grades/record";
import { backfillEventId, backfillRequestSchema } from "./backfill";
import { EVENTS, type JobKind } from "./events";
import { runJobInline } from "./inline";
import { AlreadyRunningError } from "./runs";

export interface CronAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const ROUTES: Record<string, { kind: JobKind; method: "GET" | "POST"; event: string }> = {
  grades: { kind: "push-grades", method: "GET", event: EVENTS.pushGrades },
  rosters: { kind: "refresh-rosters", method: "GET", event: EVENTS.refreshRosters },
  backfill: { kind: "backfill", method: "POST", event: EVENTS.backfill },
};

const digest = (s: string) => createHash("sha256").update(s).digest();

export function cronAuthorized(header: string | null, secret: string | undefined): boolean {
  if (!secret || !header) return false;
  // Hashing first gives equal lengths, so the comparison itself leaks nothing about the secret.
  return timingSafeEqual(digest(header), digest(`Bearer ${secret}`));
}

type Sender = (name: string, data: Record<string, unknown>, id: string) => Promise<string>;

async function inngestSender(): Promise<Sender> {
  const { sendJobEvent } = await import("../inngest/client");
  return sendJobEvent;
}

export async function handleCron(job: string, req: Request, now = new Date(), send?: Sender): Promise<CronAnswer> {
  const route = ROUTES[job];
  if (!route) return { status: 404, body: { error: "unknown_job" } };
  if (req.method !== route.method) return { status: 405, body: { error: "method_not_allowed" }, headers: { allow: route.method } };
  if (!cronAuthorized(req.headers.get("authorization"), env().cronSecret)) return { status: 401, body: { error: "unauthorized" } };

  let backfill;
  if (route.kind === "backfill") {
    let json: unknown;
    try {
      json = await req.json();
    } catch {
      return { status: 400, body: { error: "invalid_body", issues: [{ path: [], message: "body is not valid JSON" }] } };
    }
    const parsed = backfillRequestSchema.safeParse(json);
    if (!parsed.success) return { status: 400, body: { error: "invalid_body", issues: issuesOf(parsed.error) } };
    backfill = parsed.data;
  }

  // A dry run only reads: it is answered here, with its listing, even when jobs run on Inngest.
  if (env().jobsMode === "inngest" && !backfill?.dryRun) {
    // Corrections naming a triple never launched get the inline answer (422), not a job that can only fail.
    if (backfill && "scores" in backfill) {
      const unknown = await findUnknownTriples(await getDb(), backfill.scores);
      if (unknown.length) return { status: 422, body: { error: "unknown_triple", unknown } };
    }
    const day = now.toISOString().slice(0, 10);
    const eventId = backfill ? backfillEventId(backfill) : `${route.kind}-${day}`;
    try {
      await (send ?? (await inngestSender()))(route.event, backfill ? { request: backfill } : {}, eventId);
      return { status: 202, body: { enqueued: true, eventId } };
    } catch (error) {
      log.error("cron.enqueue_failed", { job: route.kind, ...errorFields(error) });
      return { status: 502, body: { error: "enqueue_failed" } };
    }
  }

  try {
    const summary = await runJobInline(route.kind, { backfill }, "cron");
    return { status: 200, body: summary };
  } catch (error) {
    if (error instanceof AlreadyRunningError) return { status: 409, body: { running: error.runId } };
    if (error instanceof UnknownTripleError) return { status: 422, body: { error: "unknown_triple", unknown: error.unknown } };
    throw error;
  }
}
