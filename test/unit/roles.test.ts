import { describe, expect, it } from "vitest";
import { classifyRoles, hasCourseRole, type RoleKind } from "@/lib/lti/roles";

const LIS = "http://purl.imsglobal.org/vocab/lis/v2";
const M = `${LIS}/membership`;
const INST = `${LIS}/institution/person`;
const SYS = `${LIS}/system/person`;
const TEST_USER = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser";

type Row = [name: string, roles: string[], kind: RoleKind, flags?: Partial<Record<"teacher" | "learner" | "mentor" | "testUser", boolean>>];

const table: Row[] = [
  // Canvas teacher: institution + membership + system roles together.
  ["canvas teacher", [`${INST}#Instructor`, `${M}#Instructor`, `${SYS}#User`], "teacher", { teacher: true, learner: false }],
  ["canvas student", [`${INST}#Student`, `${M}#Learner`, `${SYS}#User`], "learner", { learner: true, teacher: false }],
  // Canvas teacher in another course is still only a student here.
  ["canvas student who teaches elsewhere", [`${INST}#Instructor`, `${M}#Learner`, `${SYS}#User`], "learner", { teacher: false }],
  ["canvas TA", [`${INST}#Student`, `${M}/Instructor#TeachingAssistant`, `${SYS}#User`], "teacher"],
  ["canvas designer", [`${M}#ContentDeveloper`, `${SYS}#User`], "teacher"],
  ["canvas observer", [`${M}#Mentor`, `${SYS}#User`], "mentor", { mentor: true, teacher: false, learner: false }],
  ["canvas test student", [`${M}#Learner`, TEST_USER], "learner", { testUser: true }],
  ["canvas account admin", [`${INST}#Administrator`, `${SYS}#User`], "teacher"],
  ["moodle teacher", [`${INST}#Instructor`, `${M}#Instructor`], "teacher"],
  ["moodle non-editing teacher", [`${M}/Instructor#TeachingAssistant`], "teacher"],
  ["moodle student", [`${M}#Learner`], "learner"],
  ["moodle site admin", [`${SYS}#Administrator`, `${INST}#Administrator`, `${M}#Instructor`], "teacher"],
  ["system sysadmin only", [`${SYS}#SysAdmin`], "teacher"],
  ["instructor and learner together", [`${M}#Learner`, `${M}#Instructor`], "teacher", { teacher: true, learner: true }],
  ["membership administrator", [`${M}#Administrator`], "teacher"],
  ["grader sub-role", [`${M}/Instructor#Grader`], "teacher"],
  // A learner's sub-role named like a teacher role is still a learner.
  ["peer instructor (learner sub-role)", [`${M}/Learner#Instructor`], "learner", { teacher: false }],
  ["mentor sub-role", [`${M}/Mentor#Advisor`], "mentor"],
  ["learner sub-role", [`${M}/Learner#ExternalLearner`], "learner"],
  ["short Instructor", ["Instructor"], "teacher"],
  ["short TeachingAssistant", ["TeachingAssistant"], "teacher"],
  ["short Administrator", ["Administrator"], "teacher"],
  ["short ContentDeveloper", ["ContentDeveloper"], "teacher"],
  ["short Learner", ["Learner"], "learner"],
  ["short Student", ["Student"], "learner"],
  ["short Mentor", ["Mentor"], "mentor"],
  ["LTI 1.1 instructor urn", ["urn:lti:role:ims/lis/Instructor"], "teacher"],
  ["LTI 1.1 TA urn", ["urn:lti:role:ims/lis/TeachingAssistant"], "teacher"],
  ["LTI 1.1 learner urn", ["urn:lti:role:ims/lis/Learner"], "learner"],
  ["LTI 1.1 sysadmin urn", ["urn:lti:sysrole:ims/lis/SysAdmin"], "teacher"],
  ["LTI 1.1 institution student urn", ["urn:lti:instrole:ims/lis/Student"], "other"],
  ["institution instructor only", [`${INST}#Instructor`], "other", { teacher: false }],
  ["institution student only", [`${INST}#Student`], "other", { learner: false }],
  ["system user only", [`${SYS}#User`], "other"],
  ["no roles", [], "other", { teacher: false, learner: false, mentor: false, testUser: false }],
  ["test user alone", [TEST_USER], "other", { testUser: true }],
  // Substring look-alikes must not match.
  ["instructor as a substring", [`${M}#InstructorX`, "https://example.com/roles/Instructor", "NotInstructor"], "other"],
  ["membership role on another host or scheme", ["https://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"], "teacher"],
  ["bare fragment", ["#Learner"], "learner"],
  ["lti system role is not a LIS system role", ["http://purl.imsglobal.org/vocab/lti/system/person#Administrator"], "other"],
  ["teacher word inside a longer segment", [`${LIS}/xmembership#Instructor`, `${M}#Instructor/extra`], "other"],
  ["whitespace around a role", [`  ${M}#Learner  `], "learner"],
];

describe("classifyRoles", () => {
  it.each(table)("%s", (_name, roles, kind, flags = {}) => {
    const result = classifyRoles(roles);
    expect(result.kind).toBe(kind);
    for (const [flag, value] of Object.entries(flags)) expect(result[flag as keyof typeof flags], flag).toBe(value);
  });

  it("sets the flag matching the kind", () => {
    expect(classifyRoles([`${M}#Instructor`])).toEqual({ kind: "teacher", teacher: true, learner: false, mentor: false, testUser: false });
    expect(classifyRoles([`${M}#Learner`, `${M}#Mentor`])).toEqual({ kind: "learner", teacher: false, learner: true, mentor: true, testUser: false });
  });

  it("ignores values that are not strings", () => {
    expect(classifyRoles([null as unknown as string, 3 as unknown as string, `${M}#Learner`]).kind).toBe("learner");
  });
});

describe("hasCourseRole", () => {
  it("is true for any course role and false for institution or system roles alone", () => {
    for (const roles of [[`${M}#Learner`], [`${INST}#Administrator`, `${M}#Instructor`], [`${M}/Mentor#Advisor`], ["Learner"], ["urn:lti:role:ims/lis/Instructor"], [`${M}#Member`]])
      expect(hasCourseRole(roles), roles.join()).toBe(true);
    for (const roles of [[], [`${INST}#Administrator`, `${SYS}#User`], [`${SYS}#SysAdmin`], ["urn:lti:sysrole:ims/lis/SysAdmin"], [TEST_USER]])
      expect(hasCourseRole(roles), roles.join()).toBe(false);
  });
});
