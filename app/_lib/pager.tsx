/** Previous/next page links that keep the page's other query values (the session token among them). */
import Link from "next/link";

export function Pager({ page, pages, href, label }: { page: number; pages: number; href: (page: number) => string; label: string }) {
  if (pages <= 1) return null;
  return (
    <nav className="pager" aria-label={label}>
      {page > 1 ? <Link href={href(page - 1)} rel="prev">← Previous</Link> : <span className="muted" aria-hidden="true">← Previous</span>}
      <span>
        Page {page} of {pages}
      </span>
      {page < pages ? <Link href={href(page + 1)} rel="next">Next →</Link> : <span className="muted" aria-hidden="true">Next →</span>}
    </nav>
  );
}
