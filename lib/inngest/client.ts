/** The Inngest client (keys come from INNGEST_EVENT_KEY / INNGEST_SIGNING_KEY / INNGEST_DEV, read by the SDK). */
import { Inngest } from "inngest";

export const inngest = new Inngest({ id: "gradesync" });
