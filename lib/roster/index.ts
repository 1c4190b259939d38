/** Roster refresh through Names and Roles: one context's refresh, what is due, and the roster's view. */
export { refreshContext, tally, type ContextOutcome, type RosterDeps } from "./refresh";
export { rosterRefreshWanted } from "./wanted";
export { rosterView, explainNotGradable, type RosterMember, type RosterView } from "./view";
export { listRosterTargets, staleAfterSeconds, type RosterTarget, type SkipReason } from "./targets";
export { applyRoster, type ApplyResult } from "./apply";
export type { RosterClient } from "./client";
export { DEFAULT_ROSTER_TUNING, type RosterTuning } from "./tuning";
