/** The LMS simulator's seeded world: two platforms, three courses, their activities and people. */
import { ROLE } from "./roles";
import type { LmsState } from "./state";
import type { Member } from "./types";

export interface DemoCourse {
  platformId: string;
  contextId: string;
  label: string;
  title: string;
  links: { id: string; title: string }[];
}

export interface DemoPerson {
  id: string;
  name: string;
  /** How the person is enrolled in every demo course (a ROLE_CHOICES key). */
  enrolment: RoleChoice;
}

export const DEMO_PLATFORMS: Record<string, { name: string; productFamilyCode: string }> = {
  "demo-canvas": { name: "Canvas (emulated)", productFamilyCode: "canvas" },
  "demo-moodle": { name: "Moodle (emulated)", productFamilyCode: "moodle" },
  "demo-d2l": { name: "Brightspace (emulated)", productFamilyCode: "desire2learn" },
};

export const DEMO_COURSES: DemoCourse[] = [
  {
    platformId: "demo-canvas",
    contextId: "bio101",
    label: "BIO101",
    title: "Introduction to Biology",
    links: [
      { id: "bio101-lab1", title: "Lab 1: Cells" },
      { id: "bio101-lab2", title: "Lab 2: Genetics" },
      { id: "bio101-quiz", title: "Quiz: Evolution" },
    ],
  },
  {
    platformId: "demo-canvas",
    contextId: "chem201",
    label: "CHEM201",
    title: "Organic Chemistry",
    links: [
      { id: "chem201-ps1", title: "Problem Set 1" },
      { id: "chem201-lab", title: "Synthesis Lab" },
    ],
  },
  {
    platformId: "demo-moodle",
    contextId: "hist110",
    label: "HIST110",
    title: "World History",
    links: [
      { id: "hist110-essay", title: "Essay: The Silk Road" },
      { id: "hist110-quiz", title: "Quiz: Empires" },
    ],
  },
  {
    platformId: "demo-d2l",
    contextId: "math150",
    label: "MATH150",
    title: "Calculus I",
    links: [{ id: "math150-hw1", title: "Homework 1: Limits" }],
  },
];

/** The roles a launch from the simulator can carry. */
export const ROLE_CHOICES = {
  Instructor: [ROLE.Instructor],
  Learner: [ROLE.Learner],
  TA: [ROLE.TeachingAssistant],
  Mentor: [ROLE.Mentor],
  "Test Student": [ROLE.Learner, ROLE.TestUser],
  "Instructor+Learner": [ROLE.Instructor, ROLE.Learner],
} satisfies Record<string, string[]>;

export type RoleChoice = keyof typeof ROLE_CHOICES;

export const DEMO_PEOPLE: DemoPerson[] = [
  { id: "u-ada", name: "Ada Lovelace", enrolment: "Instructor" },
  { id: "u-grace", name: "Grace Hopper", enrolment: "TA" },
  { id: "u-alan", name: "Alan Turing", enrolment: "Learner" },
  { id: "u-katherine", name: "Katherine Johnson", enrolment: "Learner" },
  { id: "u-edsger", name: "Edsger Dijkstra", enrolment: "Learner" },
  { id: "u-barbara", name: "Barbara Liskov", enrolment: "Learner" },
  { id: "u-donald", name: "Donald Knuth", enrolment: "Learner" },
  { id: "u-margaret", name: "Margaret Hamilton", enrolment: "Learner" },
  { id: "u-pat", name: "Pat Parent", enrolment: "Mentor" },
  { id: "u-test", name: "Test Student", enrolment: "Test Student" },
];

export function demoUser(person: DemoPerson) {
  const [givenName, ...rest] = person.name.split(" ");
  const familyName = rest.join(" ");
  return {
    id: person.id,
    name: person.name,
    givenName,
    familyName,
    email: `${person.name.toLowerCase().replace(/[^a-z]+/g, ".")}@example.edu`,
  };
}

export function demoRoster(): Member[] {
  return DEMO_PEOPLE.map((person) => {
    const { id, ...pii } = demoUser(person);
    return { userId: id, roles: [...ROLE_CHOICES[person.enrolment]], status: "Active", ...pii };
  });
}

function isLoopbackOrigin(base: string): boolean {
  try {
    const u = new URL(base);
    return u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
  } catch {
    return false;
  }
}

/** Creates a demo course's platform, course and roster the first time a simulator page needs them. */
export function ensureDemoCourse(state: LmsState, course: DemoCourse, base: string): void {
  const platform = DEMO_PLATFORMS[course.platformId];
  // On a loopback origin (the simulator on a developer's machine, beside the tool on another host or
  // port) the LMS's issuer is this page's origin, so the tool's frame-ancestors admit it. Any other
  // origin comes from a Host header a client chooses, and the first launch fixes a platform's URL for
  // everyone: there the platform keeps its made-up example.com URL, and the simulator, served on the
  // tool's own origin, frames the tool as 'self'.
  const platformUrl = isLoopbackOrigin(base) ? `${base}/lms/${course.platformId}` : undefined;
  state.platform({ platformId: course.platformId, platformName: platform.name, platformUrl, productFamilyCode: platform.productFamilyCode });
  if (!state.findCourse(course.platformId, course.contextId)) {
    state.course(course.platformId, course.contextId, { label: course.label, title: course.title });
    state.setRoster(course.platformId, course.contextId, demoRoster());
  }
}
