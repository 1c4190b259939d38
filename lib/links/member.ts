/** Who a user is in a link's course now (a roster refresh may have changed it since the launch). */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { memberships, users } from "../db/schema";

/** The user's current role kind in the context ("inactive" once the roster says they left). */
export async function memberKind(db: Db, contextRef: string, userRef: string): Promise<{ kind: string; name: string | null; userId: string } | null> {
  const [row] = await db
    .select({ kind: memberships.kind, status: memberships.status, name: users.name, userId: users.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userRef))
    .where(and(eq(memberships.contextRef, contextRef), eq(memberships.userRef, userRef)))
    .limit(1);
  if (!row) return null;
  return { kind: row.status === "Active" ? row.kind : "inactive", name: row.name, userId: row.userId };
}
