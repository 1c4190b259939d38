/**
 * /api/cron/<path>: Vercel cron (and operators) start a job; the routes are the table's jobs that
 * show a cron path. Bearer CRON_SECRET, compared in constant time; unset secret → 401 to everyone.
 * With Inngest the route only enqueues (a per-day event id; a hash of the body for backfill); inline
 * it runs the job and answers its summary, or 409 when the same kind is already running here.
 * Every authorised call also evaluates operators' alerts before it answers (bounded, never failing it).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { alertsEnabled, noteRequestOrigin, requestAlerts, within } from "../alerts";
import { getDb } from "../db/client";
import { env } from "../env";
import { errorFields, log } from "../log";
import { issuesOf } from "../grades/entry";
import { UnknownTripleError } from "../grades/record";
import { backfillEventId, type BackfillRequest } from "./definitions/backfill";
import { dispatcher, type Dispatcher } from "./dispatch";
import { AlreadyRunningError } from "./inline";
import { CRON_JOBS } from "./table";

export interface CronAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export function cronAuthorized(header: string | null, secret: string | undefined): boolean {
  if (!secret || !header) return false;
  // Hashing first gives equal lengths, so the comparison itself leaks nothing about the secret.
  return timingSafeEqual(digest(header), digest(`Bearer ${secret}`));
}

const invalidBody = (issues: { path: (string | number)[]; message: string }[]): CronAnswer => ({ status: 400, body: { error: "invalid_body", issues } });

/** How long a cron call waits for its alerts' evaluation (Vercel may stop the function once it answered). */
export const CRON_ALERTS_WAIT_MS = 15_000;

/** The evaluation every authorised cron call asks for, after its job (which may have evaluated too). */
async function cronAlerts(): Promise<void> {
  try {
    if (!alertsEnabled()) return;
    await within(requestAlerts(await getDb()), CRON_ALERTS_WAIT_MS);
  } catch (error) {
    log.warn("alerts.cron_failed", errorFields(error));
  }
}

export async function handleCron(path: string, req: Request, opts: { now?: Date; dispatcher?: Dispatcher } = {}): Promise<CronAnswer> {
  const def = CRON_JOBS.find((d) => d.shows.cron?.path === path);
  if (!def) return { status: 404, body: { error: "unknown_job" } };
  const method = def.shows.cron!.method;
  if (req.method !== method) return { status: 405, body: { error: "method_not_allowed" }, headers: { allow: method } };
  if (!cronAuthorized(req.headers.get("authorization"), env().cronSecret)) return { status: 401, body: { error: "unauthorized" } };
  // Alerts link to /admin on this origin when APP_URL is unset (the alerts of the run it starts too).
  noteRequestOrigin(req.url);
  try {
    return await cronJob(def, req, opts);
  } finally {
    await cronAlerts();
  }
}

async function cronJob(def: (typeof CRON_JOBS)[number], req: Request, opts: { now?: Date; dispatcher?: Dispatcher }): Promise<CronAnswer> {
  const method = def.shows.cron!.method;

  let body: unknown = {};
  if (method === "POST") {
    try {
      body = await req.json();
    } catch {
      return invalidBody([{ path: [], message: "body is not valid JSON" }]);
    }
  }
  const parsed = def.payload.safeParse(body);
  if (!parsed.success) return invalidBody(issuesOf(parsed.error));
  const payload = parsed.data as object;

  const d = opts.dispatcher ?? dispatcher();
  const day = (opts.now ?? new Date()).toISOString().slice(0, 10);
  // Two different backfills on one day both run; the same one twice runs once.
  const eventId = def.kind === "backfill" ? backfillEventId(payload as BackfillRequest) : `${def.kind}-${day}`;
  try {
    const r = await d.enqueue(def.kind, payload, { trigger: "cron", id: eventId });
    return r.mode === "inngest" ? { status: 202, body: { enqueued: true, eventId } } : { status: 200, body: r.run };
  } catch (error) {
    if (error instanceof AlreadyRunningError) return { status: 409, body: { running: error.runId } };
    if (error instanceof UnknownTripleError) return { status: 422, body: { error: "unknown_triple", unknown: error.unknown } };
    if (d.mode === "inngest") {
      log.error("cron.enqueue_failed", { job: def.kind, ...errorFields(error) });
      return { status: 502, body: { error: "enqueue_failed" } };
    }
    throw error;
  }
}
