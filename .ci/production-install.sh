#!/usr/bin/env bash
# An operator installs for production (`npm ci --omit=dev`) and must still be able to migrate the
# database and run a job: both commands run TypeScript through tsx, which is therefore a dependency,
# not a devDependency. This installs the tracked files into a temporary copy with --omit=dev (from
# the npm cache: offline), then runs `npm run db:migrate` and `npm run job -- push-grades` against a
# temporary PGlite directory. About a minute; run by .ci/run as its own step, not by `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d "${TMPDIR:-/tmp}/gradesync-prod-install-XXXXXX")"
trap 'rm -rf "$work"' EXIT

git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$work/$(dirname "$f")"
  cp -p "$f" "$work/$f"
done
cd "$work"
npm ci --omit=dev --offline --no-audit --no-fund --loglevel=error
if [ -e node_modules/vitest ] || [ -e node_modules/eslint ] || [ -e node_modules/drizzle-kit ]; then
  echo "devDependencies were installed: this is not a production install" >&2
  exit 1
fi

export PGLITE_DIR="$work/.data/pglite" GRADESYNC_LOG=silent
npm run --silent db:migrate
npm run --silent job -- push-grades --json > job.json
node -e 'const r = JSON.parse(require("fs").readFileSync("job.json", "utf8")); if (r.kind !== "push-grades" || r.outcome !== "completed") { console.error(r); process.exit(1); }'
echo "production install: db:migrate and job run without devDependencies"
