import path from "node:path";
import type { Ctx } from "./api-cases.ts";
import { REFUSED, sessionSpellings } from "./oc-box-cases.ts";

/** The answer with these strings blanked (alice's id and the missing one compare equal). */
const blank = (status: number, text: string, ids: string[]) => `${status} ${ids.reduce((t, id) => t.split(id).join("<id>"), text)}`;

/**
 * Mallory through /api/box/oc with her own chat as a foothold: alice's session (in every spelling
 * opencode routes), alice's worktree (query, header, encoded, traversal), the routes that read across
 * chats, the refused routes, alice's box. Refused, or answered with nothing of alice's.
 */
export async function malloryOc(ctx: Ctx, phase: string) {
  const { worker } = ctx.stack;
  const { victim, missing, own } = ctx.v;
  const cookie = `ocweb_session=${ctx.stack.cookies.mallory}`;
  const MW = encodeURIComponent(own.directory);
  const AW = encodeURIComponent(victim.directory);
  const go = (label: string, method: string, p: string, check: { expect?: number | number[]; leakCheck?: boolean }, headers: Record<string, string> = {}, body?: string) =>
    ctx.ledger.try({
      phase, label, method, url: `${worker.url}/api/box/oc${p}`, ...check,
      headers: { cookie, origin: worker.url, "content-type": "application/json", ...headers },
      body: body ?? (method === "GET" ? undefined : "{}"),
    });
  type Req = { p: string; headers?: Record<string, string> };
  const twins = async (label: string, theirs: Req, none: Req, expect: number) => {
    const a = await go(label, "GET", theirs.p, { expect }, theirs.headers);
    const b = await go(`${label} (missing twin)`, "GET", none.p, { expect }, none.headers);
    const ids = [victim.sessionId, missing.sessionId, victim.directory, missing.directory, AW, encodeURIComponent(missing.directory), victim.box, missing.box];
    if (blank(a.status, a.text, ids) !== blank(b.status, b.text, ids)) ctx.ledger.flag(phase, label, `alice's answers ${a.status} ${a.text} but a missing one ${b.status} ${b.text}`);
  };
  const dirHeader = (dir: string) => ({ "x-opencode-directory": encodeURIComponent(dir) });

  await twins("alice's session", { p: `/session/${victim.sessionId}/message` }, { p: `/session/${missing.sessionId}/message` }, 404);
  await twins("alice's worktree", { p: `/session?directory=${AW}` }, { p: `/session?directory=${encodeURIComponent(missing.directory)}` }, 403);
  await twins("alice's box", { p: `/config/providers?box=${victim.box}` }, { p: `/config/providers?box=${missing.box}` }, 404);
  await twins("alice's worktree in the header", { p: "/session", headers: dirHeader(victim.directory) }, { p: "/session", headers: dirHeader(missing.directory) }, 403);

  for (const rest of ["/message", "", "/todo", "/diff", "/children"]) {
    for (const spelled of sessionSpellings(victim.sessionId, rest)) {
      await go(`alice's session as ${spelled}`, "GET", `${spelled}?directory=${MW}`, { expect: [404, 400] });
    }
  }
  const prompt = JSON.stringify({ parts: [{ type: "text", text: "an intruder's prompt" }] });
  for (const spelled of sessionSpellings(victim.sessionId, "/prompt_async")) await go("prompt alice's session", "POST", `${spelled}?directory=${MW}`, { expect: [404, 400] }, {}, prompt);
  for (const spelled of sessionSpellings(victim.sessionId, "")) {
    await go("rename alice's session", "PATCH", `${spelled}?directory=${MW}`, { expect: [404, 400] }, {}, JSON.stringify({ title: "renamed by an intruder" }));
    await go("delete alice's session", "DELETE", `${spelled}?directory=${MW}`, { expect: [404, 400] });
  }
  await go("abort alice's session", "POST", `/session/${victim.sessionId}/abort`, { expect: 404 });
  await go("her session with alice's worktree", "GET", `/session/${own.sessionId}/message?directory=${AW}`, { expect: 403 });

  const notHers = [
    `${AW}`, encodeURIComponent(AW), encodeURIComponent(`${own.directory}/../${path.basename(victim.directory)}`),
    encodeURIComponent(`${victim.directory}/`), `${AW}&directory=${MW}`,
  ];
  for (const dir of notHers) await go("alice's worktree, spelled otherwise", "GET", `/session?directory=${dir}`, { expect: 403 });
  await go("alice's worktree raw in the header", "GET", "/session", { expect: 403 }, { "x-opencode-directory": victim.directory });

  const own_ = `directory=${MW}`;
  const reads = [
    `/session?${own_}&directory=${AW}`, `/session?${own_}&scope=project`, `/session?${own_}&location%5Bdirectory%5D=${AW}`,
    `/session?${own_}&roots=true&search=acme`, `/session/status?${own_}`, `/permission?${own_}`, `/question?${own_}`,
    `/file/content?path=${encodeURIComponent(`../${path.basename(victim.directory)}/notes.txt`)}&${own_}`,
    `/file/content?path=${encodeURIComponent(`${victim.directory}/notes.txt`)}&${own_}`, `/file?path=..&${own_}`,
    `/find?pattern=ALICE-PRIVATE&${own_}`, `/find/file?query=notes&${own_}`, `/vcs/diff/raw?${own_}`, `/path?${own_}`,
    "/provider", "/config/providers", "/agent", `/PROVIDER?${own_}`, `/Config/Providers?${own_}`, `/provider/?${own_}`,
  ];
  for (const p of reads) await go(`read ${p.split("?")[0]}`, "GET", p, { leakCheck: true });
  await go("read with alice's worktree in the header", "GET", `/session?${own_}`, { leakCheck: true }, { "x-opencode-directory": AW });

  for (const [method, p] of REFUSED) {
    for (const spelled of [p, `${p}/`, p.toUpperCase()]) await go(`${method} ${p} (${spelled})`, method, `${spelled}?${own_}`, { expect: [400, 403] });
  }
  await go("path traversal to the box's mgmt", "GET", `/..%2F..%2Fmgmt/chats?${own_}`, { expect: [400, 403, 404] });
  await go("path traversal to the box's mgmt", "GET", `/%2e%2e/mgmt/chats?${own_}`, { expect: [400, 403, 404] });
}
