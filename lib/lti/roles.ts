/**
 * Who a launch is for, from the roles of its id token. Roles are compared as parsed URIs (scope,
 * principal role, sub-role), never as substrings: `membership/Learner#Instructor` is a learner
 * acting as a peer instructor, not a teacher, and an institution-level "Instructor" (Canvas sends
 * one for anybody who teaches anywhere) says nothing about this course.
 */

export type RoleKind = "teacher" | "learner" | "mentor" | "other";

export interface RoleClass {
  kind: RoleKind;
  teacher: boolean;
  learner: boolean;
  mentor: boolean;
  testUser: boolean;
}

type Scope = "context" | "institution" | "system" | "lti-system";

interface ParsedRole {
  scope: Scope;
  /** Lower-cased principal role, e.g. "instructor". */
  principal: string;
}

// Lower-cased names; the LMSs send the spec's casing, but nothing is gained by refusing another.
const TEACHER_CONTEXT = new Set(["instructor", "administrator", "contentdeveloper", "teachingassistant"]);
const LEARNER_CONTEXT = new Set(["learner", "student"]);
const MENTOR_CONTEXT = new Set(["mentor"]);
const TEACHER_INSTITUTION = new Set(["administrator"]);
const TEACHER_SYSTEM = new Set(["administrator", "sysadmin"]);

// Anchored on the last path segments, so a role is recognised by how it ends (whatever the host or
// scheme an LMS spells it with) but never by a fragment inside another word.
const LIS_V2 = /(?:^|\/)(membership|institution\/person|system\/person)(?:\/([A-Za-z]+))?#([A-Za-z]+)$/;
const LTI_SYSTEM = /(?:^|\/)lti\/system\/person#([A-Za-z]+)$/;
const FRAGMENT = /^#([A-Za-z]+)$/;
// LTI 1.1 URNs, still sent by some platforms in 1.3 launches.
const LTI11 = /^urn:lti:(role|instrole|sysrole):ims\/lis\/([A-Za-z]+)(?:\/([A-Za-z]+))?$/;
const SIMPLE = /^[A-Za-z]+$/;

function parseRole(raw: string): ParsedRole | undefined {
  const role = raw.trim();
  // Before LIS_V2: ".../lti/system/person#TestUser" also ends like a LIS system role.
  let m = LTI_SYSTEM.exec(role);
  if (m) return { scope: "lti-system", principal: m[1].toLowerCase() };
  m = LIS_V2.exec(role);
  if (m) {
    const [, area, sub, fragment] = m;
    if (area === "membership") {
      // membership#X: X is the role; membership/X#Y: Y is a sub-role of X, so X decides.
      return { scope: "context", principal: (sub ?? fragment).toLowerCase() };
    }
    // institution/person and system/person have no sub-roles in the vocabulary.
    if (sub) return undefined;
    return { scope: area === "institution/person" ? "institution" : "system", principal: fragment.toLowerCase() };
  }
  m = LTI11.exec(role);
  if (m) {
    const [, kind, principal] = m;
    const scope: Scope = kind === "role" ? "context" : kind === "instrole" ? "institution" : "system";
    return { scope, principal: principal.toLowerCase() };
  }
  // Deprecated "simple names" (and bare "#Name" fragments) are context roles.
  m = FRAGMENT.exec(role);
  if (m) return { scope: "context", principal: m[1].toLowerCase() };
  if (SIMPLE.test(role)) return { scope: "context", principal: role.toLowerCase() };
  return undefined;
}

export function classifyRoles(roles: readonly string[]): RoleClass {
  let teacher = false;
  let learner = false;
  let mentor = false;
  let testUser = false;
  for (const raw of roles) {
    if (typeof raw !== "string") continue;
    const role = parseRole(raw);
    if (!role) continue;
    switch (role.scope) {
      case "context":
        if (TEACHER_CONTEXT.has(role.principal)) teacher = true;
        else if (LEARNER_CONTEXT.has(role.principal)) learner = true;
        else if (MENTOR_CONTEXT.has(role.principal)) mentor = true;
        break;
      case "institution":
        if (TEACHER_INSTITUTION.has(role.principal)) teacher = true;
        break;
      case "system":
        if (TEACHER_SYSTEM.has(role.principal)) teacher = true;
        break;
      case "lti-system":
        if (role.principal === "testuser") testUser = true;
        break;
    }
  }
  const kind: RoleKind = teacher ? "teacher" : learner ? "learner" : mentor ? "mentor" : "other";
  return { kind, teacher, learner, mentor, testUser };
}

/**
 * Whether any role is a course (context) role, the kind an LMS's roster lists. Someone who teaches
 * here only by an institution or system role (an account or site administrator) is not enrolled:
 * no roster names them, so a roster cannot say they left.
 */
export function hasCourseRole(roles: readonly string[]): boolean {
  return roles.some((r) => typeof r === "string" && parseRole(r)?.scope === "context");
}
