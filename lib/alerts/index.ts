/**
 * Operator alerts: conditions read from the database (conditions.ts), their state and one message
 * per condition and subject per day (state.ts), the JSON a receiver gets (message.ts), the POST
 * (deliver.ts) and when it all runs (evaluate.ts). Callers: the run lifecycle and the cron routes
 * (lib/jobs), /admin (whether alerts are on).
 */
export { ALERT_CONDITIONS, currentConditions, type AlertCondition, type AlertTarget, type Condition } from "./conditions";
export { adminUrlFor, alertMessage, receiverOf, type AlertMessage, type AlertNotice, type Receiver } from "./message";
export { openAlertCount } from "./state";
export {
  alertsEnabled,
  alertSettings,
  alertsIdle,
  evaluateAlerts,
  evaluateAlertsQuietly,
  MAX_MESSAGES_PER_EVALUATION,
  noteRequestOrigin,
  requestAlerts,
  within,
  type AlertRound,
  type AlertSettings,
} from "./evaluate";
