import { describe, expect, it } from "vitest";
import { dayWords, reconcileWords } from "@/lib/views/gradebook-changes";

const now = new Date("2026-12-04T15:00:00Z"); // a Friday

describe("the last reconcile in the teacher's words", () => {
  it("names the day: today, yesterday, a weekday this week, else the date", () => {
    expect(dayWords(new Date("2026-12-04T01:00:00Z"), now)).toBe("today");
    expect(dayWords(new Date("2026-12-03T23:00:00Z"), now)).toBe("yesterday");
    expect(dayWords(new Date("2026-12-01T04:30:00Z"), now)).toBe("Tuesday");
    expect(dayWords(new Date("2026-11-22T04:30:00Z"), now)).toBe("22 November");
    expect(dayWords(new Date("2025-11-22T04:30:00Z"), now)).toBe("22 November 2025");
  });

  it("counts what matched, what a person changed and what went missing", () => {
    const checkedAt = new Date("2026-12-01T04:30:00Z");
    expect(reconcileWords({ checkedAt, inSync: 48, differs: 2, missing: 0 }, now)).toBe("Checked Tuesday: 48 of 50 match; 2 changed by hand.");
    expect(reconcileWords({ checkedAt, inSync: 50, differs: 0, missing: 0 }, now)).toBe("Checked Tuesday: 50 of 50 match.");
    expect(reconcileWords({ checkedAt, inSync: 47, differs: 1, missing: 2 }, now)).toBe(
      "Checked Tuesday: 47 of 50 match; 1 changed by hand; 2 missing from the gradebook (sent again).",
    );
    expect(reconcileWords({ checkedAt, inSync: 0, differs: 0, missing: 0 }, now)).toBe("Checked Tuesday: no grade had been sent yet.");
    expect(reconcileWords({ checkedAt: null, inSync: 0, differs: 0, missing: 0 }, now)).toMatch(/^Not checked yet/);
  });
});
