/** Roster refresh through Names and Roles (issue #4): the job, its triggers, and the roster's view. */
export { refreshRostersHandler, refreshRosterContextHandler, refreshContextInline, tally, type RefreshRostersInput, type RefreshRostersResult } from "./job";
export { refreshContext, rosterDeps, withRosterLock, type ContextOutcome, type RosterDeps } from "./refresh";
export { scheduleRosterRefresh, requestRosterRefresh, rosterRefreshWanted, setRosterSchedulerForTests, pendingRosterRefreshes, type RefreshRequest } from "./schedule";
export { rosterView, explainNotGradable, type RosterMember, type RosterView } from "./view";
export { listRosterTargets, staleAfterSeconds, type RosterTarget, type SkipReason } from "./targets";
export { applyRoster, type ApplyResult } from "./apply";
export { setRosterClientForTests, type RosterClient } from "./client";
export { setRosterTuningForTests, type RosterTuning } from "./tuning";
