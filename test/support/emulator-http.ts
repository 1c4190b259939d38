/**
 * The emulator on a local port with a clock the test moves, and the calls the LTIAAS client makes, for
 * the emulator's own tests: `const emu = useClockedEmulator(); … emu.clock = …; await emu.post(c, body)`.
 */
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startEmulatorServer, type EmulatorServer } from "@/lib/emulator/server";
import type { Emulator, Member } from "@/lib/emulator";
import { TEST_KEYS } from "./env";

export const T0 = Date.parse("2026-03-02T09:00:00.000Z");

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface GradedCourse {
  platformId: string;
  contextId: string;
  serviceKey: string;
  lineItemId: string;
  /** `${url}/api/lineitems/<encoded id>/scores` */
  scoresUrl: string;
}

export interface ClockedEmulator {
  readonly url: string;
  readonly emulator: Emulator;
  /** The LMS's clock (ms); reset to T0 before each test. */
  clock: number;
  course(opts?: {
    platformId?: string;
    contextId?: string;
    productFamilyCode?: string;
    learners?: number;
    scoreMaximum?: number;
    endDateTime?: string;
  }): GradedCourse;
  call(method: string, path: string, serviceKey: string, body?: unknown): Promise<Answer>;
  /** POST a score to the course's line item. */
  post(c: GradedCourse, body: unknown): Promise<Answer>;
  /** GET the line item's results with a query (e.g. "?limit=3"). */
  results(c: GradedCourse, query?: string): Promise<Answer>;
}

/** A final score of `scoreGiven` out of 10 with a comment, plus anything in `over`. */
export const score = (userId: string, scoreGiven: number, over: Record<string, unknown> = {}) => ({
  userId,
  activityProgress: "Completed",
  gradingProgress: "FullyGraded",
  scoreGiven,
  scoreMaximum: 10,
  comment: "ok",
  ...over,
});

export function useClockedEmulator(): ClockedEmulator {
  let server: EmulatorServer | undefined;
  const started = () => {
    if (!server) throw new Error("useClockedEmulator(): the emulator starts in beforeAll");
    return server;
  };
  const handle: ClockedEmulator = {
    clock: T0,
    get url() {
      return started().url;
    },
    get emulator() {
      return started().emulator;
    },
    course(opts = {}) {
      const platformId = opts.platformId ?? "p1";
      const contextId = opts.contextId ?? "c1";
      const e = started().emulator;
      const { serviceKey } = e.createLaunch({
        platformId,
        contextId,
        resourceLinkId: "r1",
        productFamilyCode: opts.productFamilyCode ?? "canvas",
        user: { id: "teacher" },
        roles: ["Instructor"],
      });
      const members: Member[] = Array.from({ length: opts.learners ?? 3 }, (_, i) => ({ userId: `s${i + 1}`, roles: ["Learner"] }));
      e.setRoster(platformId, contextId, members);
      const lineItemId = e.addLineItem(platformId, contextId, {
        label: "Lab",
        scoreMaximum: opts.scoreMaximum ?? 100,
        resourceLinkId: "r1",
        ...(opts.endDateTime !== undefined && { endDateTime: opts.endDateTime }),
      });
      return {
        platformId,
        contextId,
        serviceKey: serviceKey!,
        lineItemId,
        scoresUrl: `/api/lineitems/${encodeURIComponent(lineItemId)}/scores`,
      };
    },
    async call(method, path, serviceKey, body) {
      const headers: Record<string, string> = { authorization: `SERVICE-AUTH-V1 ${TEST_KEYS.apiKey}:${serviceKey}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${started().url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, text, body: parsed };
    },
    post(c, body) {
      return handle.call("POST", c.scoresUrl, c.serviceKey, body);
    },
    results(c, query = "") {
      return handle.call("GET", `${c.scoresUrl}${query}`, c.serviceKey);
    },
  };
  beforeAll(async () => {
    server = await startEmulatorServer({ apiKey: TEST_KEYS.apiKey, now: () => handle.clock });
  });
  beforeEach(() => {
    started().emulator.reset();
    handle.clock = T0;
  });
  afterAll(async () => {
    await server?.close();
    server = undefined;
  });
  return handle;
}
