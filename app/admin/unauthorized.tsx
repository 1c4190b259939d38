import { env } from "@/lib/env";
import { SignInForm } from "./sign-in-form";

/** /admin without access: the sign-in form (401), or why it is closed. */
export default function AdminUnauthorized() {
  const e = env();
  return (
    <main className="narrow">
      <div className="card">
        <h1>Gradesync operator sign-in</h1>
        {e.adminToken ? (
          <>
            <p className="muted">Enter the operator token (ADMIN_TOKEN) to see every course&apos;s sync health.</p>
            <SignInForm />
          </>
        ) : e.production ? (
          <p role="alert">The dashboard is turned off: set ADMIN_TOKEN on the server to enable sign-in.</p>
        ) : (
          <p role="alert">Without ADMIN_TOKEN the dashboard opens only from this machine (localhost). Set ADMIN_TOKEN to sign in from elsewhere.</p>
        )}
      </div>
    </main>
  );
}
