/**
 * What the roster refresh needs from LTIAAS, so tests and the bench can hand in a client that
 * counts or interferes with calls while still talking to the emulator.
 */
import { ltiaas, type LtiaasClient } from "../ltiaas";

export type RosterClient = Pick<LtiaasClient, "listMembershipsPage">;

const holder = globalThis as unknown as { __gradesyncRosterClient?: RosterClient };

export function rosterClient(): RosterClient {
  return holder.__gradesyncRosterClient ?? ltiaas();
}

export function setRosterClientForTests(client: RosterClient | undefined): void {
  holder.__gradesyncRosterClient = client;
}
