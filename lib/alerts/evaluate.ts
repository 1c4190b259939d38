/**
 * One evaluation: read what is wrong now, record it, and send what is owed — a raise message per
 * condition and subject per day, a cleared message when one is over. Without ALERT_WEBHOOK_URL
 * nothing is read or sent. Evaluations are asked for at the end of every run and by every cron call;
 * `requestAlerts` folds the requests of one process into at most one running and one waiting, and
 * never rejects: an alert must never fail (or hold up) a run or a cron call.
 */
import type { Db } from "../db/client";
import { env } from "../env";
import { log } from "../log";
import { currentConditions } from "./conditions";
import { deliver, describeDeliveryError } from "./deliver";
import { adminUrlFor, alertMessage, receiverOf } from "./message";
import { alertDelivered, alertNotDelivered, claimAlert, dueAlerts, recordConditions } from "./state";

export interface AlertSettings {
  /** ALERT_WEBHOOK_URL — a secret. */
  webhookUrl?: string;
  pendingMinutes: number;
  /** APP_URL, else Vercel's URL. */
  appUrl?: string;
}

export const alertSettings = (): AlertSettings => {
  const e = env();
  return { webhookUrl: e.alerts.webhookUrl, pendingMinutes: e.alerts.pendingMinutes, appUrl: e.appUrl };
};

export const alertsEnabled = () => Boolean(env().alerts.webhookUrl);

/**
 * Messages sent by one evaluation at most: an outage across many links must not flood the channel
 * (Teams takes 4 a second); the rest go at the next evaluation, most urgent first.
 */
export const MAX_MESSAGES_PER_EVALUATION = 20;

export interface AlertRound {
  enabled: boolean;
  /** Conditions that hold now. */
  open: number;
  sent: number;
  /** Messages the receiver did not take (they stay owed). */
  undelivered: number;
}

export interface EvaluateOptions {
  now?: Date;
  /** Links use it when APP_URL is unset (default: the origin of the last cron call, see noteRequestOrigin). */
  origin?: string;
  settings?: AlertSettings;
}

export async function evaluateAlerts(db: Db, opts: EvaluateOptions = {}): Promise<AlertRound> {
  const settings = opts.settings ?? alertSettings();
  const url = settings.webhookUrl;
  if (!url) return { enabled: false, open: 0, sent: 0, undelivered: 0 };
  const now = opts.now ?? new Date();
  const conditions = await currentConditions(db, { now, pendingMinutes: settings.pendingMinutes });
  await recordConditions(db, conditions, now);

  const adminUrl = adminUrlFor({ appUrl: settings.appUrl, origin: opts.origin ?? rememberedOrigin() });
  const receiver = receiverOf(url);
  const round: AlertRound = { enabled: true, open: conditions.length, sent: 0, undelivered: 0 };
  // One at a time: receivers rate-limit per webhook, and a failing one is not hammered.
  for (const key of await dueAlerts(db, now, MAX_MESSAGES_PER_EVALUATION)) {
    const due = await claimAlert(db, key, now);
    if (!due) continue;
    const sent = await deliver(url, alertMessage(due, { adminUrl, receiver }));
    if (sent.ok) {
      await alertDelivered(db, due, now);
      round.sent++;
    } else {
      await alertNotDelivered(db, due);
      round.undelivered++;
      log.warn("alerts.undelivered", { condition: due.condition, cleared: due.cleared, status: sent.status, error: sent.error });
      // The receiver is down or refuses: the others would fare the same; try again next time.
      break;
    }
  }
  if (round.sent || round.undelivered) log.info("alerts.evaluated", { open: round.open, sent: round.sent, undelivered: round.undelivered });
  return round;
}

/** An evaluation whose failure is logged, never thrown (nor anything that could quote the URL). */
export async function evaluateAlertsQuietly(db: Db, opts: EvaluateOptions = {}): Promise<AlertRound | null> {
  try {
    return await evaluateAlerts(db, opts);
  } catch (error) {
    log.warn("alerts.evaluation_failed", { error: describeDeliveryError(error, opts.settings?.webhookUrl ?? alertSettings().webhookUrl ?? "") });
    return null;
  }
}

interface Flight {
  running?: Promise<void>;
  waiting?: Promise<void>;
}

const holder = globalThis as unknown as {
  __gradesyncAlerts?: { flights: WeakMap<object, Flight>; active: Set<Promise<void>>; origin?: { env: object; origin: string } };
};
const state = (holder.__gradesyncAlerts ??= { flights: new WeakMap(), active: new Set() });

/**
 * The origin of an authorised request (a cron call, noted before its job runs): links of this
 * process's evaluations use it when APP_URL is unset — the run that call started included. Kept
 * for the configuration it was noted under.
 */
export function noteRequestOrigin(origin: string): void {
  if (URL.canParse(origin)) state.origin = { env: env(), origin: new URL(origin).origin };
}

const rememberedOrigin = () => (state.origin?.env === env() ? state.origin.origin : undefined);

function flightOf(db: Db): Flight {
  let f = state.flights.get(db);
  if (!f) state.flights.set(db, (f = {}));
  return f;
}

/** Kept until settled, so alertsIdle() sees running and waiting evaluations alike. */
function tracked(p: Promise<void>): Promise<void> {
  state.active.add(p);
  void p.finally(() => state.active.delete(p));
  return p;
}

function start(db: Db, f: Flight): Promise<void> {
  const run: Promise<void> = evaluateAlertsQuietly(db).then(() => {
    if (f.running === run) f.running = undefined;
  });
  f.running = run;
  return tracked(run);
}

/**
 * Asks for an evaluation in this process: it starts now, or after the one running (requests
 * meanwhile share that one). The promise resolves when an evaluation that began after the request
 * is done; it never rejects. Without ALERT_WEBHOOK_URL it does nothing.
 */
export function requestAlerts(db: Db): Promise<void> {
  if (!alertsEnabled()) return Promise.resolve();
  const f = flightOf(db);
  if (f.waiting) return f.waiting;
  if (!f.running) return start(db, f);
  const waiting: Promise<void> = f.running.then(() => {
    f.waiting = undefined;
    return start(db, f);
  });
  f.waiting = waiting;
  return tracked(waiting);
}

/** Waits for `p`, at most `ms` (it goes on in the background after that). */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
    timer.unref();
  });
  try {
    await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until this process has no evaluation running or waiting (at most `ms`): the command line
 * before it exits, and tests.
 */
export async function alertsIdle(ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (state.active.size && Date.now() < until) await within(Promise.all([...state.active]), until - Date.now());
}
