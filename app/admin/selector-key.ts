/** What a backfill dry run was about, carried by the preview's form so the run can be checked against it. */
export function selectorKey(s: { platformId: string; contextId: string; resourceLinkId: string; since: string; overwrite?: string }): string {
  return JSON.stringify([s.platformId, s.contextId, s.resourceLinkId, s.since, s.overwrite ?? ""]);
}
