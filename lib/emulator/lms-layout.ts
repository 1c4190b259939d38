/** The LMS simulator's shared look: one stylesheet, one page frame. */
import { escapeHtml as e } from "../html";

// Shown behind the tool's frame until the tool paints over it: a first launch after `npm run dev`
// waits while Next compiles the tool's pages, and a blank frame looks broken.
const OPENING = `data:image/svg+xml,${encodeURIComponent(
  `<svg xmlns="http://www.w3.org/2000/svg" width="560" height="60" font-family="system-ui,sans-serif" text-anchor="middle">` +
    `<text x="280" y="22" font-size="15" fill="#374151">Opening the tool…</text>` +
    `<text x="280" y="46" font-size="12" fill="#6b7280">The first launch after starting the dev server waits while its pages compile.</text></svg>`,
)}`;

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1f2937;background:#f3f4f6}
header.top{display:flex;gap:1rem;align-items:center;background:#2d3b45;color:#fff;padding:.6rem 1rem}
header.top .lms{font-weight:700}header.top .course{opacity:.9}
.layout{display:grid;grid-template-columns:15rem 1fr 22rem;min-height:calc(100vh - 2.6rem)}
nav.side{background:#fff;border-right:1px solid #e5e7eb;padding:1rem}nav.side h2{font-size:.8rem;text-transform:uppercase;color:#6b7280;margin:.5rem 0}
nav.side ul{list-style:none;padding:0;margin:0 0 1rem}nav.side li a{display:block;padding:.3rem .4rem;border-radius:4px;color:#0b6bcb;text-decoration:none}
nav.side li a.current{background:#e0ecf9;font-weight:600}
main{display:flex;flex-direction:column;padding:1rem;min-width:0}main h1{font-size:1.2rem;margin:0 0 .6rem}
main iframe.tool{flex:1;width:100%;min-height:40rem;border:1px solid #d1d5db;border-radius:6px;background:#fff url("${OPENING}") no-repeat center 6rem}
aside{border-left:1px solid #e5e7eb;background:#fff}aside iframe{width:100%;height:100%;min-height:40rem;border:0}
form.launch{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:1rem;max-width:40rem}
form.launch label{display:block;margin:.5rem 0 .2rem;font-weight:600}form.launch select{width:100%;padding:.3rem}
form.launch fieldset{border:0;padding:0;margin:.6rem 0}form.launch button{margin-top:.8rem;padding:.45rem 1.2rem;background:#0b6bcb;color:#fff;border:0;border-radius:4px;font-weight:600}
.error{background:#fee2e2;color:#991b1b;padding:.5rem .8rem;border-radius:4px;max-width:40rem}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{border-bottom:1px solid #e5e7eb;padding:.2rem .3rem;text-align:left;vertical-align:top}
td.path{word-break:break-all}.muted{color:#6b7280}
.tag{display:inline-block;margin-left:.25rem;padding:0 .3rem;border-radius:3px;font-size:11px;background:#e5e7eb;color:#374151}
.tag.late{background:#fee2e2;color:#991b1b}.tag.hand{background:#fef3c7;color:#92400e}
.notice{background:#dcfce7;color:#166534;padding:.5rem .8rem;border-radius:4px}
section.box{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem}
section.box h2{font-size:1rem;margin:0 0 .5rem}form.inline{display:inline-flex;gap:.25rem;align-items:center;margin:0}
form.inline input[type=number]{width:4.5rem}form.settings label{display:inline-block;margin:.2rem .8rem .2rem 0}
form.settings input[type=number]{width:6rem}
`;

export function layout(title: string, body: string, head = ""): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>${head}<style>${STYLE}</style></head><body>${body}</body></html>`;
}

