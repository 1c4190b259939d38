/**
 * Roles as the emulated LMS sends and judges them. Deliberately independent of the tool's own role
 * parser (lib/launch/roles.ts): an emulator that shared it would agree with the tool's bugs.
 */

const LIS = "http://purl.imsglobal.org/vocab/lis/v2";

export const ROLE = {
  Instructor: `${LIS}/membership#Instructor`,
  Learner: `${LIS}/membership#Learner`,
  Mentor: `${LIS}/membership#Mentor`,
  Administrator: `${LIS}/membership#Administrator`,
  ContentDeveloper: `${LIS}/membership#ContentDeveloper`,
  TeachingAssistant: `${LIS}/membership/Instructor#TeachingAssistant`,
  Grader: `${LIS}/membership/Instructor#Grader`,
  TestUser: "http://purl.imsglobal.org/vocab/lti/system/person#TestUser",
  InstitutionStudent: `${LIS}/institution/person#Student`,
  InstitutionInstructor: `${LIS}/institution/person#Instructor`,
} as const;

const SHORT: Record<string, string> = {
  instructor: ROLE.Instructor,
  teacher: ROLE.Instructor,
  learner: ROLE.Learner,
  student: ROLE.Learner,
  mentor: ROLE.Mentor,
  observer: ROLE.Mentor,
  administrator: ROLE.Administrator,
  contentdeveloper: ROLE.ContentDeveloper,
  teachingassistant: ROLE.TeachingAssistant,
  ta: ROLE.TeachingAssistant,
  grader: ROLE.Grader,
  testuser: ROLE.TestUser,
};

/** A known short name becomes its full URI; anything else (URIs included) passes through unchanged. */
function expandRole(role: string): string {
  return SHORT[role.toLowerCase()] ?? role;
}

export const expandRoles = (roles: readonly string[]): string[] => roles.map(expandRole);

/** Context role a full URI stands for: `membership#Learner` and `membership/Learner#X` → "Learner". */
function contextPrincipal(uri: string): string | undefined {
  const m = /\/membership(?:\/([A-Za-z]+))?#([A-Za-z]+)$/.exec(uri);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** NRPS `role=` filter: a full URI matches exactly, a short name matches the context role it names. */
export function hasRole(roles: readonly string[], filter: string): boolean {
  const full = expandRole(filter);
  if (roles.includes(full) || roles.includes(filter)) return true;
  const wanted = contextPrincipal(full) ?? filter;
  return roles.some((r) => contextPrincipal(r)?.toLowerCase() === wanted.toLowerCase());
}

/**
 * Whether the LMS has a student enrollment to put a grade on. Instructors, mentors and the LMS's
 * test user have none (Canvas answers 422 for them).
 */
export function isGradableEnrollment(roles: readonly string[]): boolean {
  if (roles.includes(ROLE.TestUser)) return false;
  return hasRole(roles, "Learner");
}
