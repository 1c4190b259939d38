/** Minimal HTML for answers that are not React pages (launch errors, the emulator's pages). */
export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A short page that says what happened and what to do, in the tool's own small style: as wide as the app's error pages (main.message in globals.css). */
export function messagePage(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gradesync</title>
<style>*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;color:#1f2937;background:#f8fafc}
main{max-width:36rem;margin:0 auto;background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:1rem}
h1{font-size:1.25rem;margin:0 0 .5rem}p{margin:0}</style></head>
<body><main role="main"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`;
}
