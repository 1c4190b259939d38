/**
 * The database schema (Postgres, through Drizzle). One row per LMS thing we learn of at launch:
 * platform → context (course) → resource link (the triple's last part, one line item each), users
 * and their roles per context, and the sealed serviceKey per triple.
 */
import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const createdAt = () => ts("created_at").notNull().defaultNow();
const updatedAt = () => ts("updated_at").notNull().defaultNow();

export const platforms = pgTable(
  "platforms",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** LTIAAS's `platform.id`. */
    platformId: text("platform_id").notNull(),
    url: text("url"),
    clientId: text("client_id"),
    deploymentId: text("deployment_id"),
    name: text("name"),
    productFamilyCode: text("product_family_code"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("platforms_platform_id_uq").on(t.platformId)],
);

export const contexts = pgTable(
  "contexts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    platformRef: uuid("platform_ref")
      .notNull()
      .references(() => platforms.id, { onDelete: "cascade" }),
    /** The LMS's `launch.context.id`. */
    contextId: text("context_id").notNull(),
    label: text("label"),
    title: text("title"),
    rosterRefreshedAt: ts("roster_refreshed_at"),
    rosterMembers: integer("roster_members").notNull().default(0),
    rosterActiveLearners: integer("roster_active_learners").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("contexts_platform_context_uq").on(t.platformRef, t.contextId)],
);

export const resourceLinks = pgTable(
  "resource_links",
  {
    /** Gradesync's id for the triple: `/contexts/<id>` and `/api/status` entries use it. */
    id: uuid("id").primaryKey().defaultRandom(),
    contextRef: uuid("context_ref")
      .notNull()
      .references(() => contexts.id, { onDelete: "cascade" }),
    /** The LMS's `launch.resourceLink.id`. */
    resourceLinkId: text("resource_link_id").notNull(),
    title: text("title"),
    /** AGS line item named by the last launch that carried one (only when the link has exactly one). */
    launchLineItemId: text("launch_line_item_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("resource_links_context_link_uq").on(t.contextRef, t.resourceLinkId)],
);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    platformRef: uuid("platform_ref")
      .notNull()
      .references(() => platforms.id, { onDelete: "cascade" }),
    /** The LMS's `user.id` (LTI `sub`). */
    userId: text("user_id").notNull(),
    name: text("name"),
    email: text("email"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("users_platform_user_uq").on(t.platformRef, t.userId)],
);

/** A user's roles in one context, from launches and (later) roster refreshes. */
export const memberships = pgTable(
  "memberships",
  {
    contextRef: uuid("context_ref")
      .notNull()
      .references(() => contexts.id, { onDelete: "cascade" }),
    userRef: uuid("user_ref")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    roles: text("roles").array().notNull().default(sql`'{}'::text[]`),
    /** Derived from `roles`: teacher | learner | mentor | other. */
    kind: text("kind").notNull(),
    testUser: boolean("test_user").notNull().default(false),
    /** NRPS status: Active | Inactive | Deleted (launches imply Active). */
    status: text("status").notNull().default("Active"),
    lastLaunchAt: ts("last_launch_at"),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.contextRef, t.userRef] }), index("memberships_user_idx").on(t.userRef)],
);

/** The serviceKey of one triple, sealed (JWE bound to the triple); overwritten on every launch. */
export const serviceKeys = pgTable(
  "service_keys",
  {
    resourceLinkRef: uuid("resource_link_ref")
      .primaryKey()
      .references(() => resourceLinks.id, { onDelete: "cascade" }),
    sealed: text("sealed").notNull(),
    /** Id of the encryption key that sealed it (for rotation). */
    keyId: text("key_id").notNull(),
    hasAgs: boolean("has_ags").notNull().default(false),
    hasNrps: boolean("has_nrps").notNull().default(false),
    /** active | needs_relaunch */
    state: text("state").notNull().default("active"),
    stateReason: text("state_reason"),
    stateChangedAt: ts("state_changed_at").notNull().defaultNow(),
    capturedAt: ts("captured_at").notNull().defaultNow(),
    lastLaunchAt: ts("last_launch_at").notNull().defaultNow(),
  },
  (t) => [index("service_keys_key_id_idx").on(t.keyId), index("service_keys_state_idx").on(t.state)],
);
