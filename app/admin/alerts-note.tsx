import { alertsEnabled, openAlertCount } from "@/lib/alerts";
import { getDb } from "@/lib/db/client";

/** Whether operators are told of trouble (never the webhook URL: it is a secret), and how to turn it on. */
export async function AlertsNote() {
  if (!alertsEnabled())
    return (
      <p className="muted small" data-testid="alerts-note">
        Alerts are off. To be told of trouble without watching this page, set <code>ALERT_WEBHOOK_URL</code> to a Slack or
        Teams incoming webhook (or any URL that takes JSON) and restart.
      </p>
    );
  const open = await openAlertCount(await getDb());
  return (
    <p className="muted small" data-testid="alerts-note">
      Alerts are on: {open === 0 ? "nothing is raised now" : `${open} condition${open === 1 ? " is" : "s are"} raised now`} (each is
      told once a day, and again when it clears).
    </p>
  );
}
