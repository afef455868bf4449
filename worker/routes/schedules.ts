import { asc, count, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { conflict } from "../../lib/api-error.ts";
import { refSchema, repoSchema } from "../../lib/names.ts";
import { modelSchema, promptTextSchema } from "../../lib/prompt-input.ts";
import { ulid } from "../../lib/ulid.ts";
import { validate } from "../../lib/validate.ts";
import type { AppEnv } from "../context.ts";
import { scheduleRuns, schedules } from "../db/schema.ts";
import { cronSchema, parseCron } from "../schedules/cron.ts";
import { FIRST_RUN } from "../schedules/runner.ts";
import { ownSchedule, runHistory, scheduleView, upcoming } from "../schedules/views.ts";

const MAX_SCHEDULES = 50;
const PREVIEW_RUNS = 5;

const idParam = z.object({ id: z.string().regex(/^[0-9A-Z]{26}$/, "schedule id must be a ULID (26 of 0-9 A-Z)") });
const createBody = z.object({
  repo: repoSchema,
  base: refSchema.optional(),
  prompt: promptTextSchema,
  model: modelSchema.optional(),
  cron: cronSchema,
  /** true: every run continues one chat (made by the first run); false: a new chat per run. */
  reuse: z.boolean().optional(),
});
const patchBody = z.object({
  prompt: promptTextSchema.optional(),
  cron: cronSchema.optional(),
  paused: z.boolean().optional(),
  model: modelSchema.nullable().optional(),
  base: refSchema.nullable().optional(),
  reuse: z.boolean().optional(),
}).refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to change: send prompt, cron, paused, model, base or reuse");
const previewBody = z.object({ cron: cronSchema });

const firstRunAfter = (cron: string, now: Date) => parseCron(cron).nextRun(now);

/** Scheduled prompts: CRUD, next-run preview, run history, pause/resume. Times are UTC. */
export const scheduleRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const rows = await c.get("db").select().from(schedules).where(eq(schedules.userId, c.get("user").id)).orderBy(asc(schedules.createdAt));
    const now = new Date();
    return c.json({ schedules: rows.map((s) => scheduleView(s, now)) });
  })
  .post("/preview", validate("json", previewBody), (c) => c.json({ next: upcoming(c.req.valid("json").cron, new Date(), PREVIEW_RUNS) }))
  .post("/", validate("json", createBody), async (c) => {
    const input = c.req.valid("json");
    const db = c.get("db");
    const userId = c.get("user").id;
    const [mine] = await db.select({ n: count() }).from(schedules).where(eq(schedules.userId, userId));
    if ((mine?.n ?? 0) >= MAX_SCHEDULES) throw conflict(`at most ${MAX_SCHEDULES} schedules: delete one first`);
    const now = new Date();
    const [row] = await db.insert(schedules).values({
      id: ulid(now.getTime()), userId, repo: input.repo, base: input.base ?? null, prompt: input.prompt, model: input.model ?? null,
      cron: input.cron, reuseChatId: input.reuse ? FIRST_RUN : null, paused: false, nextRunAt: firstRunAfter(input.cron, now), createdAt: now,
    }).returning();
    return c.json({ schedule: scheduleView(row!, now) }, 201);
  })
  .get("/:id", validate("param", idParam), async (c) => {
    const db = c.get("db");
    const row = await ownSchedule(db, c.get("user").id, c.req.valid("param").id);
    return c.json({ schedule: scheduleView(row, new Date()), runs: await runHistory(db, row.id) });
  })
  .patch("/:id", validate("param", idParam), validate("json", patchBody), async (c) => {
    const db = c.get("db");
    const row = await ownSchedule(db, c.get("user").id, c.req.valid("param").id);
    const body = c.req.valid("json");
    const now = new Date();
    const cron = body.cron ?? row.cron;
    const paused = body.paused ?? row.paused;
    const rescheduled = body.cron !== undefined || body.paused !== undefined;
    const baseChanged = body.base !== undefined && body.base !== row.base;
    const reuse = body.reuse ?? row.reuseChatId !== null;
    // The one chat is tied to a branch: a new base starts a new one.
    const reuseChatId = !reuse ? null : baseChanged || row.reuseChatId === null ? FIRST_RUN : row.reuseChatId;
    const [updated] = await db.update(schedules).set({
      prompt: body.prompt,
      model: body.model,
      base: body.base,
      cron,
      paused,
      reuseChatId,
      ...(rescheduled ? { nextRunAt: paused ? null : firstRunAfter(cron, now) } : {}),
    }).where(eq(schedules.id, row.id)).returning();
    return c.json({ schedule: scheduleView(updated!, now) });
  })
  .delete("/:id", validate("param", idParam), async (c) => {
    const db = c.get("db");
    const row = await ownSchedule(db, c.get("user").id, c.req.valid("param").id);
    await db.batch([db.delete(scheduleRuns).where(eq(scheduleRuns.scheduleId, row.id)), db.delete(schedules).where(eq(schedules.id, row.id))]);
    return c.body(null, 204);
  });
