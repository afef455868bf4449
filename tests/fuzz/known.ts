import type { Known } from "./fuzz-run.ts";
import { safeDecode } from "./safety.ts";

/**
 * opencode's own 500s, passed through /oc (box) and /api/box/oc (worker): found by the fuzzing and
 * reported with their fix. Only opencode's 500 shape matches, so a 5xx the box or the worker makes
 * itself is never excused here.
 */
const fromOpencode = (text: string) => text.startsWith('{"name":"UnknownError"');
const ocPath = (path: string) => safeDecode(path.replace(/^(\/api\/box)?\/oc/, ""));
const query = (q: string) => new URLSearchParams(q);

/** An id in a path where opencode expects its own prefix (ses_, msg_, prt_, per_): its validator answers 500. */
function malformedId(path: string): boolean {
  const p = ocPath(path);
  const checks: Array<[RegExp, RegExp]> = [
    [/^\/session\/([^/]+)\/?$/i, /^(ses|status$)/],
    [/^\/session\/([^/]+)\/./i, /^ses/],
    [/^\/session\/[^/]+\/message\/([^/]+)/i, /^msg/],
    [/\/part\/([^/]+)/i, /^prt/],
    [/^\/session\/[^/]+\/permissions\/([^/]+)/i, /^per/],
  ];
  return checks.some(([where, shape]) => {
    const id = where.exec(p)?.[1];
    return id !== undefined && !shape.test(id);
  });
}

export const OPENCODE_KNOWN: Known[] = [
  {
    what: "opencode answers 500 to an id not of its own shape (/session/<not ses…>, …/message/<not msg…>): the box's oc guard should answer 400 first",
    matches: (_route, req, res) => res.status === 500 && fromOpencode(res.text) && malformedId(req.path),
  },
  {
    what: "opencode answers 500 to GET /find?pattern=<a regex ripgrep rejects> (upstream: should be 400)",
    matches: (_route, req, res) => res.status === 500 && fromOpencode(res.text) && /^\/find\/?$/i.test(ocPath(req.path)) && query(req.query).has("pattern"),
  },
  {
    what: "opencode answers 500 to GET /file or /file/content?path=<outside the worktree> (it refuses, but as a fault): the guard should answer 400",
    matches: (_route, req, res) => {
      const path = query(req.query).get("path");
      return res.status === 500 && fromOpencode(res.text) && /^\/file(\/content)?\/?$/i.test(ocPath(req.path)) && path !== null && (path.startsWith("/") || path.split("/").includes(".."));
    },
  },
];
