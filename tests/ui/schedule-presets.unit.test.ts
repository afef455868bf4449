import { describe, expect, it } from "vitest";
import { parseCron } from "../../worker/schedules/cron.ts";
import { dailyCron, dayList, describeCron, presetCron, presetOf } from "../../ui/src/screens/schedule-presets.ts";

const PARIS_SUMMER = 120;
const INDIA = 330;
const NEW_YORK_WINTER = -300;
const SYDNEY_SUMMER = 660;

describe("presets in local time become UTC cron", () => {
  it("moves the hour, and the day when the UTC time falls on another date", () => {
    expect(presetCron("nightly", 0)).toBe("0 2 * * *");
    expect(presetCron("nightly", PARIS_SUMMER)).toBe("0 0 * * *");
    expect(presetCron("nightly", INDIA)).toBe("30 20 * * *");
    expect(presetCron("weekdays", NEW_YORK_WINTER)).toBe("0 14 * * 1-5");
    expect(presetCron("weekdays", INDIA)).toBe("30 3 * * 1-5");
    // 09:00 Monday in Sydney is 22:00 Sunday UTC.
    expect(presetCron("weekdays", SYDNEY_SUMMER)).toBe("0 22 * * 0-4");
    expect(dailyCron(23 * 60, NEW_YORK_WINTER, [5, 6])).toBe("0 4 * * 0,6");
    expect(presetCron("hourly", 0)).toBe("0 * * * *");
    expect(presetCron("hourly", INDIA)).toBe("30 * * * *");
  });

  it("every preset, at every offset, is a cron the worker accepts", () => {
    for (let offset = -12 * 60; offset <= 14 * 60; offset += 15) {
      for (const id of ["nightly", "weekdays", "hourly"] as const) expect(() => parseCron(presetCron(id, offset))).not.toThrow();
    }
  });

  it("recognises its own presets and names anything else by its expression", () => {
    expect(presetOf("30 20 * * *", INDIA)).toBe("nightly");
    expect(presetOf("30 20 * * *", 0)).toBeUndefined();
    expect(describeCron("0 14 * * 1-5", NEW_YORK_WINTER)).toBe("Weekdays at 09:00");
    expect(describeCron("*/5 * * * *", 0)).toBe("cron */5 * * * * (UTC)");
  });

  it("writes day lists as ranges where they run on", () => {
    expect(dayList([5, 1, 2, 3, 4])).toBe("1-5");
    expect(dayList([0, 6])).toBe("0,6");
    expect(dayList([0, 1, 2, 4])).toBe("0-2,4");
  });
});
