/** What the push engine needs from LTIAAS (tests and the bench hand in a client pointed at the emulator, or one that counts calls). */
import type { LtiaasClient } from "../ltiaas";

export type GradeClient = Pick<LtiaasClient, "listLineItems" | "getLineItem" | "createLineItem" | "postScore">;

/** Our mark on line items we create (AGS `tag`); their `resourceId` is `ourResourceId(link)`. */
export const OUR_TAG = "gradesync";
