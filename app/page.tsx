import { headers } from "next/headers";
import { env } from "@/lib/env";

export const dynamic = "force-dynamic";

export default async function Home() {
  const { emulator } = env();
  const port = ((await headers()).get("host") ?? "").split(":")[1] ?? "3000";
  const lmsUrl = `http://127.0.0.1:${port}/emulator/lms`;
  return (
    <main>
      <div className="card">
        <h1>Gradesync</h1>
        <p>
          Captures the LTIAAS serviceKey at every launch and keeps your LMS gradebook in sync from background jobs: nightly
          pushes, grader webhooks, roster refreshes and backfills.
        </p>
        <p className="muted">Teachers and students reach it from an assignment in their course; this address alone shows nothing of theirs.</p>
        {emulator ? (
          <p>
            Development: open the <a href={lmsUrl}>bundled LMS simulator</a> (on 127.0.0.1, a different site
            from this one, as a real LMS is) and launch as a teacher or a student.
          </p>
        ) : null}
      </div>
    </main>
  );
}
