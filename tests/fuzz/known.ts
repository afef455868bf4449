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

export const OPENCODE_KNOWN: Known[] = [
  {
    what: "opencode answers 500 to GET /find?pattern=<a regex ripgrep rejects> (upstream: should be 400)",
    matches: (_route, req, res) => res.status === 500 && fromOpencode(res.text) && /^\/find\/?$/i.test(ocPath(req.path)) && query(req.query).has("pattern"),
  },
];
