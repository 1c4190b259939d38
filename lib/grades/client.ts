/**
 * What the push engine needs from LTIAAS, so tests and the bench can hand in a client pointed at
 * the emulator (or one that counts calls).
 */
import { ltiaas, type LtiaasClient } from "../ltiaas";

export type GradeClient = Pick<LtiaasClient, "listLineItems" | "getLineItem" | "createLineItem" | "postScore">;

/** Our mark on line items we create (AGS `tag`); their `resourceId` is `ourResourceId(link)`. */
export const OUR_TAG = "gradesync";

const holder = globalThis as unknown as { __gradesyncGradeClient?: GradeClient };

/** The process's client: lib/ltiaas from the environment, unless a test installed one. */
export function gradeClient(): GradeClient {
  return holder.__gradesyncGradeClient ?? ltiaas();
}

export function setGradeClientForTests(client: GradeClient | undefined): void {
  holder.__gradesyncGradeClient = client;
}
