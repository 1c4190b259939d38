/** The quiz a demo link asks (the app picks it from the link's titles, as the launch sends them). */
import { DEMO_COURSES } from "@/lib/emulator/demo";
import { quizFor, type Quiz } from "@/lib/views/learner";

export function demoQuiz(linkId: string): Quiz {
  const course = DEMO_COURSES.find((c) => c.links.some((l) => l.id === linkId));
  const link = course?.links.find((l) => l.id === linkId);
  if (!course || !link) throw new Error(`no demo link ${linkId}`);
  return quizFor({ resourceLinkId: link.id, title: link.title, course: { contextId: course.contextId, title: course.title }, platform: { platformId: course.platformId } });
}
