/**
 * LTIAAS response shapes. Parsing is tolerant where LMSs differ (extra fields kept, missing PII,
 * nulls for absent values, numeric ids, both spellings of documentTarget) and strict only where the
 * tool cannot work without a value (ids, roles, a line item's scoreMaximum).
 */
import { z } from "zod";

/**
 * Postgres text cannot hold a NUL character: one in a single member's name would fail the whole
 * roster's (or launch's) statement, so LMS text is stored without it.
 */
const withoutNul = (v: string) => v.replaceAll("\u0000", "");

/** Absent, null or "" all mean "not given". */
const optString = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined ? undefined : withoutNul(String(v)) || undefined));

/**
 * Ids are strings in the spec; some LMSs send numbers. Kept exactly as sent (an id with a NUL
 * removed would name someone else): the launch refuses one it cannot store, a roster leaves it out.
 */
const id = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .pipe(z.string().min(1));

const optNumber = z
  .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)])
  .nullish()
  .transform((v) => (v === null || v === undefined ? undefined : Number(v)));

const optBoolean = z.boolean().nullish().transform((v) => v ?? undefined);

const roles = z
  .array(z.unknown())
  .nullish()
  .transform((v) => (v ?? []).filter((r): r is string => typeof r === "string").map(withoutNul));

const available = z.looseObject({ available: z.boolean().nullish().transform((v) => v ?? false) });

// ---------- id token ----------

export interface IdToken {
  ltiVersion?: string;
  user: { id: string; roles: string[]; name?: string; email?: string; givenName?: string; familyName?: string };
  platform: { id: string; url?: string; clientId?: string; deploymentId?: string; name?: string; productFamilyCode?: string };
  launch: {
    type: string;
    context?: { id: string; label?: string; title?: string; type?: string[] };
    resourceLink?: { id: string; title?: string; description?: string };
    presentation?: { documentTarget?: string; locale?: string; returnUrl?: string; width?: number; height?: number };
    custom?: Record<string, unknown>;
  };
  services: {
    assignmentAndGrades?: { available: boolean; lineItemId?: string };
    namesAndRoles?: { available: boolean };
    deepLinking?: { available: boolean };
    serviceKey?: string;
  };
}

const presentation = z
  .looseObject({
    documentTarget: optString,
    document_target: optString,
    locale: optString,
    returnUrl: optString,
    return_url: optString,
    width: optNumber,
    height: optNumber,
  })
  .transform(({ document_target, return_url, ...rest }) => ({
    ...rest,
    documentTarget: rest.documentTarget ?? document_target,
    returnUrl: rest.returnUrl ?? return_url,
  }));

const contextType = z
  .union([z.array(z.unknown()), z.string()])
  .nullish()
  .transform((v) =>
    v === null || v === undefined ? undefined : (Array.isArray(v) ? v : [v]).filter((t): t is string => typeof t === "string"),
  );

export const idTokenSchema = z.looseObject({
  ltiVersion: optString,
  user: z.looseObject({
    id,
    roles,
    name: optString,
    email: optString,
    givenName: optString,
    familyName: optString,
  }),
  platform: z.looseObject({
    id,
    url: optString,
    clientId: optString,
    deploymentId: optString,
    name: optString,
    productFamilyCode: optString,
  }),
  launch: z.looseObject({
    type: z.string().min(1),
    context: z
      .looseObject({ id, label: optString, title: optString, type: contextType })
      .nullish()
      .transform((v) => v ?? undefined),
    resourceLink: z
      .looseObject({ id, title: optString, description: optString })
      .nullish()
      .transform((v) => v ?? undefined),
    presentation: presentation.nullish().transform((v) => v ?? undefined),
    custom: z.record(z.string(), z.unknown()).nullish().transform((v) => v ?? undefined),
  }),
  services: z
    .looseObject({
      assignmentAndGrades: available
        .extend({ lineItemId: optString })
        .nullish()
        .transform((v) => v ?? undefined),
      namesAndRoles: available.nullish().transform((v) => v ?? undefined),
      deepLinking: available.nullish().transform((v) => v ?? undefined),
      serviceKey: optString,
    })
    .nullish()
    .transform((v) => v ?? {}),
});

// ---------- line items ----------

export interface LineItem {
  id: string;
  label: string;
  scoreMaximum: number;
  resourceLinkId?: string;
  resourceId?: string;
  tag?: string;
  startDateTime?: string;
  endDateTime?: string;
  gradesReleased?: boolean;
}

export const lineItemSchema = z.looseObject({
  id: z.string().min(1),
  // AGS requires a label; an LMS that drops it should not stop a sync.
  label: optString.transform((v) => v ?? ""),
  scoreMaximum: z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/)]).transform(Number),
  resourceLinkId: optString,
  resourceId: optString,
  tag: optString,
  startDateTime: optString,
  endDateTime: optString,
  gradesReleased: optBoolean,
});

const next = optString;

export const lineItemsPageSchema = z.looseObject({
  lineItems: z.array(lineItemSchema),
  next,
});

// ---------- scores (AGS results) ----------

export interface Result {
  id?: string;
  userId: string;
  scoreOf?: string;
  resultScore?: number;
  resultMaximum?: number;
  comment?: string;
}

const resultSchema = z.looseObject({
  id: optString,
  userId: id,
  scoreOf: optString,
  resultScore: optNumber,
  resultMaximum: optNumber,
  comment: optString,
});

export const resultsPageSchema = z.looseObject({
  scores: z.array(resultSchema),
  next,
});

// ---------- memberships (NRPS) ----------

export type MemberStatus = "Active" | "Inactive" | "Deleted";

export interface Member {
  userId: string;
  roles: string[];
  status: MemberStatus;
  name?: string;
  email?: string;
  givenName?: string;
  familyName?: string;
  picture?: string;
}

const memberStatus = z
  .string()
  .nullish()
  .transform((v): MemberStatus => {
    // Missing means Active (NRPS); casing varies between LMSs.
    if (v === null || v === undefined || v === "") return "Active";
    const found = (["Active", "Inactive", "Deleted"] as const).find((s) => s.toLowerCase() === v.toLowerCase());
    // A status outside the spec must not sink the whole roster page, nor count someone as active.
    return found ?? "Inactive";
  });

const memberSchema = z.looseObject({
  userId: id,
  roles,
  status: memberStatus,
  name: optString,
  email: optString,
  givenName: optString,
  familyName: optString,
  picture: optString,
});

export interface MembershipContext {
  id: string;
  label?: string;
  title?: string;
}

export const membershipsPageSchema = z.looseObject({
  id: optString,
  context: z
    .looseObject({ id, label: optString, title: optString })
    .nullish()
    .transform((v) => v ?? undefined),
  members: z.array(memberSchema),
  next,
});

// ---------- LTIAAS error body ----------

/** `{"status":401,"error":"Unauthorized","details":{"message":"INVALID_…","description":"…"}}` */
export const ltiaasErrorBodySchema = z.object({
  status: z.number().int().optional(),
  error: z.string(),
  details: z.looseObject({
    message: z.string().optional(),
    description: z.string().optional(),
  }),
});

// The exported interfaces are the contract; these fail to compile if a schema drifts from them.
type Assignable<A, B> = A extends B ? true : false;
const _checks: [
  Assignable<z.output<typeof idTokenSchema>, IdToken>,
  Assignable<z.output<typeof lineItemSchema>, LineItem>,
  Assignable<z.output<typeof resultSchema>, Result>,
  Assignable<z.output<typeof memberSchema>, Member>,
  Assignable<NonNullable<z.output<typeof membershipsPageSchema>["context"]>, MembershipContext>,
] = [true, true, true, true, true];
void _checks;
