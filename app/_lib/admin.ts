/** /admin's gate for pages and actions: the signed cookie, or loopback in development without a token. */
import { cookies, headers } from "next/headers";
import { unauthorized } from "next/navigation";
import { env } from "@/lib/env";
import { ADMIN_COOKIE, adminAccess, type AdminAccess } from "@/lib/session/admin-access";

export async function currentAdminAccess(): Promise<AdminAccess> {
  const e = env();
  return adminAccess({
    adminToken: e.adminToken,
    production: e.production,
    cookie: (await cookies()).get(ADMIN_COOKIE)?.value,
    headers: await headers(),
  });
}

export function allowed(access: AdminAccess): boolean {
  return access === "signed_in" || access === "loopback";
}

/** 401 (the sign-in form, or "closed") unless the request may see the dashboard. */
export async function requireAdmin(): Promise<AdminAccess> {
  const access = await currentAdminAccess();
  if (!allowed(access)) unauthorized();
  return access;
}
