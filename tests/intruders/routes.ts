import type { Hono } from "hono";
import { inspectRoutes } from "hono/dev";
import { createApp } from "../../worker/app.ts";

export type Route = { method: string; path: string };
/** One concrete request for a route: its path filled in, its method (ALL expanded), and a body. */
export type Filled = { label: string; method: string; path: string; body?: string };

export const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
/** What an `ALL` route (the opencode pass-through) is tried with. */
export const ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** The handlers an app answers with (middleware left out), from the app's own route table. */
export function routesOf(app: Hono): Route[] {
  const seen = new Map<string, Route>();
  for (const r of inspectRoutes(app)) if (!r.isMiddleware) seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  return [...seen.values()];
}

/** createApp only builds routes; nothing reaches the db or the network while listing them. */
export const workerRoutes = () =>
  routesOf(createApp({ db: () => { throw new Error("listing routes only"); }, clientIp: () => undefined }) as unknown as Hono);

/** Whose id each path parameter takes, by the route it is in; a route with a parameter not listed here fails the suite. */
export type Ids = { chat: string; schedule: string; subscription: string; box: string; sessionId: string };
const PARAMS: Array<[route: RegExp, param: string, value: (ids: Ids) => string]> = [
  [/^\/api\/chats\/:id/, "id", (ids) => ids.chat],
  [/^\/api\/schedules\/:id/, "id", (ids) => ids.schedule],
  [/^\/api\/push\/subscriptions\/:id/, "id", (ids) => ids.subscription],
  [/^\/api\/boxes\/:id/, "id", (ids) => ids.box],
  [/^\/mgmt\/chats\/:chatId/, "chatId", (ids) => ids.chat],
  [/\/repos\/:owner\/:name/, "owner", () => "acme"],
  [/\/repos\/:owner\/:name/, "name", () => "app"],
  [/\/processes\/:pid/, "pid", () => "4242"],
];

/** Does the route name one of the victim's resources by id (so mallory must get the "missing" answer)? */
export const namesVictim = (route: Route) => /:(id|chatId)\b/.test(route.path);

export function fillPath(route: Route, ids: Ids): string {
  return route.path.replace(/:(\w+)(\{[^}]*\})?\??/g, (_, name: string) => {
    const rule = PARAMS.find(([re, param]) => re.test(route.path) && param === name);
    if (!rule) throw new Error(`no victim id for :${name} in ${route.method} ${route.path}: add one to tests/intruders/routes.ts`);
    return encodeURIComponent(rule[2](ids));
  });
}

/**
 * A body each state-changing route accepts, so that an ownership check is what answers and not the
 * validator (validation runs before the handler). `box` sends the victim's box where a route takes one.
 */
export function validBody(route: Route, ids: Ids & { box: string; sha: string }): string | undefined {
  const key = `${route.method} ${route.path}`;
  const bodies: Record<string, unknown> = {
    "POST /api/chats": { repo: "acme/app", boxId: ids.box },
    "PATCH /api/chats/:id": { title: "renamed by an intruder", archived: true },
    "POST /api/chats/:id/prompts": { text: "an intruder's prompt" },
    "POST /api/chats/:id/pr": { title: "an intruder's PR" },
    "POST /api/chats/:id/fork": { sha: ids.sha },
    "POST /api/box/gc": { dryRun: false, box: ids.box },
    "POST /api/boxes": { name: "an intruder's box" },
    "PATCH /api/schedules/:id": { paused: true, prompt: "an intruder's prompt" },
    "POST /api/schedules": { repo: "acme/app", prompt: "x", cron: "* * * * *" },
    "POST /api/schedules/preview": { cron: "* * * * *" },
  };
  if (key in bodies) return JSON.stringify(bodies[key]);
  return SAFE.has(route.method) || route.method === "DELETE" ? undefined : "{}";
}

/** The dashboard routes pick a box with `?box=` (GC names it in its body): the victim's box there. */
export const boxQuery = (route: Route, box: string) =>
  /^\/api\/box\/(?!oc\/)/.test(route.path) && route.path !== "/api/box/gc" ? `?box=${box}` : "";

/** One request per route and method; ALL /api/box/oc/* and ALL /oc/* become one per method on a session path. */
export function expand(routes: Route[], ids: Ids & { sha: string }): Filled[] {
  return routes.flatMap((r) => {
    const methods = r.method === "ALL" ? ALL_METHODS : [r.method];
    return methods.map((method) => {
      const route = { method, path: r.path };
      const path = r.path.endsWith("/*") ? r.path.replace(/\/\*$/, `/session/${ids.sessionId}/message`) : fillPath(route, ids) + boxQuery(route, ids.box);
      return { label: `${method} ${r.path}`, method, path, body: validBody(route, ids) };
    });
  });
}
