/** The demo activity's quizzes (issue 12 item 10): each demo course asks its own questions, every quiz has the same form and maximum. */
import { describe, expect, it } from "vitest";
import { DEMO_COURSES } from "@/lib/emulator/demo";
import { QUIZ_FIELDS, QUIZ_MAXIMUM, quizFor, readAnswers, scoreQuiz, type QuizLink } from "@/lib/views/learner";
import { QUIZ_SETS } from "@/lib/views/quizzes";

const demoLinks = DEMO_COURSES.flatMap((c) =>
  c.links.map((l): QuizLink & { contextId: string } => ({
    contextId: c.contextId,
    resourceLinkId: l.id,
    title: l.title,
    course: { contextId: c.contextId, title: c.title },
    platform: { platformId: c.platformId },
  })),
);

describe("the demo quizzes", () => {
  it("all have the same fields and maximum: five questions q1…q5, choices a…d, one right answer among them", () => {
    for (const set of QUIZ_SETS) {
      expect(set.questions.map((q) => q.id)).toEqual(QUIZ_FIELDS.questions);
      expect(set.questions).toHaveLength(QUIZ_MAXIMUM);
      for (const q of set.questions) {
        expect(q.choices.map((c) => c.id)).toEqual([...QUIZ_FIELDS.choices]);
        expect(q.choices.map((c) => c.id)).toContain(q.answer);
        expect(new Set(q.choices.map((c) => c.text)).size).toBe(4);
      }
    }
    const prompts = QUIZ_SETS.flatMap((s) => s.questions.map((q) => q.prompt));
    expect(new Set(prompts).size).toBe(prompts.length);
  });

  it("asks each demo course its own questions, on its subject", () => {
    const promptsOf = (l: QuizLink) => quizFor(l).questions.map((q) => q.prompt);
    for (const a of demoLinks)
      for (const b of demoLinks) if (a.contextId !== b.contextId) expect(promptsOf(a).filter((p) => promptsOf(b).includes(p))).toEqual([]);
    // Every demo assignment has a set of its own, named for its subject.
    expect(new Set(demoLinks.map((l) => quizFor(l).topic)).size).toBe(demoLinks.length);
    const topic = (id: string) => quizFor(demoLinks.find((l) => l.resourceLinkId === id)!).topic;
    expect(topic("bio101-lab1")).toBe("cells");
    expect(topic("bio101-quiz")).toBe("evolution");
    expect(topic("chem201-ps1")).toBe("organic chemistry");
    expect(topic("hist110-essay")).toBe("the Silk Road");
    expect(topic("math150-hw1")).toBe("limits");
  });

  it("picks a set for a link with no subject by the link itself: the same every time", () => {
    const untitled = (id: string): QuizLink => ({ resourceLinkId: id, title: null, course: { contextId: "c", title: null }, platform: { platformId: "p" } });
    expect(quizFor(untitled("x1"))).toEqual(quizFor(untitled("x1")));
    const topics = new Set(Array.from({ length: 40 }, (_, i) => quizFor(untitled(`link-${i}`)).topic));
    expect(topics.size).toBeGreaterThan(1);
  });

  it("scores against the link's own answers", () => {
    const evolution = quizFor(demoLinks.find((l) => l.resourceLinkId === "bio101-quiz")!);
    const cells = quizFor(demoLinks.find((l) => l.resourceLinkId === "bio101-lab1")!);
    const form = (quiz: typeof cells) => new Map(quiz.questions.map((q) => [q.id, q.answer]));
    const read = readAnswers(evolution, form(evolution));
    expect("answers" in read && scoreQuiz(evolution, read.answers)).toEqual({ correct: 5, total: 5 });
    // The cells quiz's answers do not make full marks on the evolution quiz.
    const other = readAnswers(evolution, form(cells));
    expect("answers" in other && scoreQuiz(evolution, other.answers).correct).toBeLessThan(5);
  });
});
