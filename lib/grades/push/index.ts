/**
 * The push engine, in parts: preparing a link (links.ts: key, line item), sending a chunk (send.ts:
 * the claim, one attempt per row), what an answer means (outcome.ts, pure) and recording it
 * (record.ts: the row's state machine). Jobs call `prepareLinks` and `sendChunk`, one step each.
 */
export { CHUNK_SIZE, DEFAULT_PUSH_TUNING, MAX_ATTEMPTS, type CrashPoint, type PushDeps, type PushTuning } from "./deps";
export { prepareLinks, type PreparedContext, type PreparedLink } from "./links";
export { sendChunk, type ChunkResult } from "./send";
