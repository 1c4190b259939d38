/** What the roster refresh needs from LTIAAS (tests hand in a client that counts or interferes). */
import type { LtiaasClient } from "../ltiaas";

export type RosterClient = Pick<LtiaasClient, "listMembershipsPage">;
