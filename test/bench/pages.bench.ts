/**
 * Issue #5's figures: server render time of the teacher's page for the largest course and of
 * /admin, against `next start` on Postgres seeded with 10,000 contexts (one link each), 1,000
 * learners in the largest, 1,000,000 ledger rows and as many attempts, and 5,000 runs. Median and
 * p95 over 50 sequential requests after a warm-up. Targets: teacher p95 ≤ 150 ms, /admin p95 ≤ 300 ms.
 *   npm run build && npm run bench pages     (BENCH_DATABASE_URL to use another Postgres)
 */
import { SignJWT } from "jose";
import pg from "pg";
import { openDatabase } from "../../lib/db/client";
import { adminCookieValue } from "../../lib/session/admin-access";
import { startNext } from "../support/next-server";
import { freshDatabase, ms, summary } from "./support";

const CONTEXTS = Number(process.env.BENCH_CONTEXTS ?? 10_000);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const LEARNERS = 1_000;
const REQUESTS = 50;
const SESSION_SECRET = "bench-session-secret-at-least-32-characters";
const ADMIN_TOKEN = "bench-admin-token-0123456789";

async function seed(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const t0 = performance.now();
  const q = (text: string, values: unknown[] = []) => c.query(text, values);
  const { rows: [p] } = await q(`INSERT INTO platforms (platform_id, name, url) VALUES ('bench-canvas', 'Canvas', 'https://lms.example.com') RETURNING id`);
  await q(`INSERT INTO contexts (platform_ref, context_id, title, label)
           SELECT $1::uuid, 'course-' || i, 'Course ' || i, 'C' || i FROM generate_series(1, $2::int) i`, [p.id, CONTEXTS]);
  await q(`INSERT INTO resource_links (context_ref, resource_link_id, title, line_item_id, line_item_state)
           SELECT id, 'link-' || context_id, 'Assignment of ' || title, 'https://lms.example.com/lineitems/' || context_id,
                  CASE WHEN random() < 0.01 THEN 'missing' ELSE 'ok' END FROM contexts`);
  await q(`INSERT INTO service_keys (resource_link_ref, sealed, key_id, has_ags, has_nrps, state)
           SELECT id, 'sealed-placeholder', 'k1', true, true, CASE WHEN random() < 0.02 THEN 'needs_relaunch' ELSE 'active' END FROM resource_links`);
  const { rows: [big] } = await q(`SELECT c.id AS context_ref, rl.id AS link_ref FROM contexts c JOIN resource_links rl ON rl.context_ref = c.id WHERE c.context_id = 'course-1'`);
  // The largest course: 1,000 learners and one teacher, all known by name.
  await q(`WITH u AS (INSERT INTO users (platform_ref, user_id, name)
             SELECT $1::uuid, 'learner-' || i, 'Learner ' || lpad(i::text, 4, '0') FROM generate_series(1, $3::int) i RETURNING id)
           INSERT INTO memberships (context_ref, user_ref, kind, roles) SELECT $2::uuid, id, 'learner', '{Learner}' FROM u`, [p.id, big.context_ref, LEARNERS]);
  const { rows: [teacher] } = await q(`INSERT INTO users (platform_ref, user_id, name) VALUES ($1::uuid, 'teacher-1', 'Ada Teacher') RETURNING id`, [p.id]);
  await q(`INSERT INTO memberships (context_ref, user_ref, kind, roles) VALUES ($1::uuid, $2::uuid, 'teacher', '{Instructor}')`, [big.context_ref, teacher.id]);
  await q(`UPDATE contexts SET roster_refreshed_at = now() - interval '2 hours', roster_members = 1001, roster_active_learners = 1000 WHERE id = $1::uuid`, [big.context_ref]);
  // Ledger: the largest link gets one row per learner, the rest spread over the other links.
  const states = `CASE WHEN random() < 0.9 THEN 'sent' WHEN random() < 0.6 THEN 'pending' WHEN random() < 0.7 THEN 'skipped' ELSE 'failed' END`;
  await q(`INSERT INTO grade_rows (resource_link_ref, context_ref, platform_ref, user_id, score_given, score_maximum, activity_progress,
             grading_progress, graded_at, submitted_at, source, state, reason, sent_revision, last_sent_at, grade_sent)
           SELECT $1::uuid, $2::uuid, $3::uuid, 'learner-' || i, (i % 11), 10, 'Completed', 'FullyGraded', now() - (i % 30) * interval '1 day', now() - (i % 30) * interval '1 day', 'webhook',
                  s.state, CASE s.state WHEN 'skipped' THEN 'not_gradable: User not found in course or is not a student' WHEN 'failed' THEN 'max_attempts: retry_later: HTTP 503' END,
                  1, now() - (i % 30) * interval '1 day', s.state = 'sent'
           FROM generate_series(1, $4::int) i, LATERAL (SELECT ${states} AS state WHERE i > 0) s`, [big.link_ref, big.context_ref, p.id, LEARNERS]);
  const rest = ROWS - LEARNERS;
  const perLink = Math.ceil(rest / (CONTEXTS - 1));
  const batch = 100_000;
  await q(`CREATE TEMP TABLE link_n AS SELECT substr(c.context_id, 8)::int AS n, rl.id, rl.context_ref
           FROM resource_links rl JOIN contexts c ON c.id = rl.context_ref`);
  await q(`CREATE UNIQUE INDEX ON link_n (n)`);
  for (let start = 0; start < rest; start += batch) {
    const n = Math.min(batch, rest - start);
    await q(`INSERT INTO grade_rows (resource_link_ref, context_ref, platform_ref, user_id, score_given, score_maximum, activity_progress,
               grading_progress, graded_at, submitted_at, source, state, pending_since, sent_revision, last_sent_at, grade_sent)
             SELECT rl.id, rl.context_ref, $1::uuid, 'u-' || (g.i % $4::int), 5, 10, 'Completed', 'FullyGraded', now() - interval '3 days', now() - interval '3 days', 'webhook',
                    s.state, CASE WHEN s.state = 'pending' THEN now() - (g.i % 5000) * interval '1 minute' END, 1, now() - interval '2 days', s.state = 'sent'
             FROM generate_series($2::int, $3::int) g(i)
             JOIN link_n rl ON rl.n = 2 + (g.i / $4::int),
             LATERAL (SELECT ${states} AS state WHERE g.i >= 0) s`, [p.id, start, start + n - 1, perLink]);
  }
  // One attempt per row over the last 30 days, and 5,000 runs over 14 days.
  await q(`INSERT INTO sync_attempts (grade_row_id, revision, http_status, outcome, latency_ms, at)
           SELECT id, 1, CASE state WHEN 'sent' THEN 204 WHEN 'skipped' THEN 422 ELSE 503 END,
                  CASE state WHEN 'sent' THEN 'sent' WHEN 'skipped' THEN 'skipped' WHEN 'failed' THEN 'failed' ELSE 'retry_later' END,
                  40, now() - (id % 30) * interval '1 day' - (id % 1440) * interval '1 minute' FROM grade_rows`);
  await q(`INSERT INTO sync_runs (kind, trigger, context_ref, outcome, started_at, finished_at, counts)
           SELECT CASE WHEN i % 50 = 0 THEN 'push-grades' ELSE 'push-grades' END, CASE WHEN i % 50 = 0 THEN 'cron' ELSE 'debounce' END,
                  CASE WHEN i % 50 = 0 THEN NULL ELSE (SELECT id FROM contexts WHERE context_id = 'course-' || (1 + i % $1::int)) END,
                  'completed', now() - (i % 14) * interval '1 day', now() - (i % 14) * interval '1 day' + interval '5 seconds',
                  jsonb_build_object('sent', i % 40, 'skipped', i % 3, 'failed', i % 2, 'pending', 0)
           FROM generate_series(1, 5000) i`, [CONTEXTS]);
  await q(`UPDATE grade_counters SET last_run_id = (SELECT id FROM sync_runs ORDER BY started_at DESC LIMIT 1)`);
  await q("ANALYZE");
  const { rows: [count] } = await q(`SELECT (SELECT count(*) FROM grade_rows)::int AS rows, (SELECT count(*) FROM contexts)::int AS contexts,
      (SELECT sum(pending + sent + skipped + failed) FROM grade_counters)::int AS counted`);
  console.log(`seeded ${count.contexts} contexts, ${count.rows} ledger rows (counters agree: ${count.counted === count.rows}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await c.end();
  return { platformRef: p.id as string, contextRef: big.context_ref as string, linkRef: big.link_ref as string, teacherRef: teacher.id as string };
}

async function time(url: string, headers: Record<string, string>, expect: string): Promise<number[]> {
  const once = async () => {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    const body = await res.text();
    const elapsed = performance.now() - t0;
    if (res.status !== 200 || !body.includes(expect)) throw new Error(`${url} answered ${res.status} without "${expect}"`);
    return elapsed;
  };
  for (let i = 0; i < 10; i++) await once();
  const out: number[] = [];
  for (let i = 0; i < REQUESTS; i++) out.push(await once());
  return out;
}

const db = await freshDatabase("gradesync_bench_pages");
try {
  const handle = await openDatabase({ driver: "node-postgres", url: db.url }, { migrate: true });
  await handle.close();
  const ids = await seed(db.url);
  const server = await startNext({
    DATABASE_URL: db.url,
    LTIAAS_URL: "http://127.0.0.1:9/unused",
    LTIAAS_API_KEY: "bench-api-key",
    ENCRYPTION_KEYS: "YmVuY2gtZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMtISE",
    SESSION_SECRET,
    ADMIN_TOKEN,
  });
  try {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ plt: ids.platformRef, ctx: ids.contextRef, role: "teacher" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(ids.teacherRef)
      .setAudience("gradesync:launch")
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode(SESSION_SECRET));
    const teacher = summary(await time(`${server.url}/contexts/${ids.linkRef}?s=${token}`, {}, `data-user="learner-`));
    console.log(`teacher page (1,000 learners, 1M-row ledger): median ${ms(teacher.median)} p95 ${ms(teacher.p95)} (target p95 ≤ 150 ms)`);
    const teacherP5 = summary(await time(`${server.url}/contexts/${ids.linkRef}?page=5&s=${token}`, {}, `rel="prev"`));
    console.log(`teacher page 5 of 10: median ${ms(teacherP5.median)} p95 ${ms(teacherP5.p95)}`);
    const cookie = { cookie: `gs_admin=${adminCookieValue(ADMIN_TOKEN).value}` };
    const admin = summary(await time(`${server.url}/admin`, cookie, "Gradesync operations"));
    console.log(`/admin (10,000 contexts): median ${ms(admin.median)} p95 ${ms(admin.p95)} (target p95 ≤ 300 ms)`);
    const adminPending = summary(await time(`${server.url}/admin?state=pending&page=20`, cookie, `data-state="pending"`));
    console.log(`/admin?state=pending&page=20: median ${ms(adminPending.median)} p95 ${ms(adminPending.p95)}`);
    const search = summary(await time(`${server.url}/admin?q=learner-500`, cookie, `class="story"`));
    console.log(`/admin?q=learner-500 (search and story): median ${ms(search.median)} p95 ${ms(search.p95)}`);
  } finally {
    await server.stop();
  }
} finally {
  await db.drop();
}
