import { Hono } from "hono";
import { z } from "zod";
import { validate } from "../../lib/validate.ts";
import { boxScope, type AppEnv } from "../context.ts";
import { boxView, listBoxes } from "../boxes/list.ts";
import { createBox, isBoxUrl, registerBox, retireBox } from "../boxes/registry.ts";
import { boxIdSchema } from "../boxes/resolve.ts";

const nameBody = z.object({ name: z.string().trim().min(1, "give the box a name").max(60) });
const idParam = z.object({ id: boxIdSchema });
const registerBody = z.object({
  key: z.string().min(16).max(200),
  url: z.string().max(500).refine(isBoxUrl, "url must be https, or http on loopback (127.0.0.1, localhost, [::1]), without credentials or a query"),
});

/** /api/boxes: the user's boxes with their health, adding one (a one-time key), retiring one. */
export const boxesRoutes = new Hono<AppEnv>()
  .get("/", async (c) => c.json(await listBoxes(boxScope(c), c.get("user").id)))
  .post("/", validate("json", nameBody), async (c) => c.json(await createBox(c.get("db"), c.get("user").id, c.req.valid("json").name), 201))
  .post("/:id/retire", validate("param", idParam), async (c) => {
    const row = await retireBox(c.get("db"), c.get("user").id, c.req.valid("param").id);
    return c.json({ box: boxView(row, "unreachable") });
  });

/** /internal/boxes/register: a box started with a registration key claims its box; the key is the only credential. */
export const boxRegistrationRoutes = new Hono<AppEnv>()
  .post("/register", validate("json", registerBody), async (c) => {
    const { key, url } = c.req.valid("json");
    return c.json(await registerBox(c.get("db"), c.env.SESSION_SECRET, { key, url: url.replace(/\/+$/, "") }), 201);
  });
