import { useNavigate, useSearchParams } from "@solidjs/router";
import { onMount } from "solid-js";

type Shared = { title?: string; text?: string; url?: string };

const SEGMENT = /^[A-Za-z0-9_.-]{1,100}$/;
// github.com/<these>/… are GitHub's own pages, not repositories.
const NOT_OWNERS = new Set(["orgs", "settings", "marketplace", "features", "topics", "sponsors", "notifications", "apps", "login", "enterprise", "collections", "trending", "explore", "search", "pulls", "issues"]);

/** The first github.com/<owner>/<repo> in the text (an issue, PR or file URL counts), as owner/name. */
export function githubRepoIn(text: string): string | undefined {
  for (const m of text.matchAll(/https?:\/\/(?:www\.)?github\.com\/([^/\s?#]+)\/([^/\s?#]+)/gi)) {
    const owner = m[1] ?? "";
    const name = (m[2] ?? "").replace(/\.git$/i, "");
    const valid = (s: string) => SEGMENT.test(s) && s !== "." && s !== ".." && !s.startsWith("-");
    if (valid(owner) && valid(name) && !NOT_OWNERS.has(owner.toLowerCase())) return `${owner}/${name}`;
  }
  return undefined;
}

/** Apps fill title, text and url as they like (often the URL inside the text): each piece once. */
export function sharedText(p: Shared): string {
  const pieces: string[] = [];
  for (const piece of [p.title, p.text, p.url].map((s) => s?.trim() ?? "")) {
    if (piece && !pieces.some((q) => q.includes(piece))) pieces.push(piece);
  }
  return pieces.join("\n");
}

/** Where a share lands: a new chat with the shared text, on the repo it links to when there is one. */
export function shareTarget(p: Shared): string {
  const text = sharedText(p);
  const repo = githubRepoIn(text);
  const query = new URLSearchParams();
  if (repo) query.set("repo", repo);
  if (text) query.set("text", text);
  const qs = query.toString();
  return qs ? `/new?${qs}` : "/new";
}

/** /share: the PWA's share target (manifest share_target, GET). Forwards at once. */
export default function Share() {
  const [params] = useSearchParams<Shared>();
  const navigate = useNavigate();
  onMount(() => navigate(shareTarget({ title: params.title, text: params.text, url: params.url }), { replace: true }));
  return <div class="screen-placeholder" />;
}
