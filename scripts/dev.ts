import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseBoxEnv } from "../box/env.ts";
import { closeOnSignals, serveBox } from "../box/serve.ts";
import { ensureDevRemote } from "./dev-remote.ts";

// Local defaults for the whole loop; every one can be overridden from the environment.
const root = path.resolve(".data");
mkdirSync(root, { recursive: true });
const tokenFile = path.join(root, "dev-box-token");
if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(32).toString("base64url"), { mode: 0o600 });

const env = parseBoxEnv({
  ...process.env,
  BOX_TOKEN: process.env.BOX_TOKEN ?? readFileSync(tokenFile, "utf8").trim(),
  OCWEB_DATA: process.env.OCWEB_DATA ?? path.join(root, "box"),
  GIT_BASE_URL: process.env.GIT_BASE_URL ?? (await ensureDevRemote(path.join(root, "dev-remote"))),
});
const running = await serveBox(env, (line) => console.log(line));
closeOnSignals(running.close);
const token = path.relative(process.cwd(), tokenFile);
console.log(`
ocweb dev is up
  box       ${running.url}  (bearer token in ${token})
  opencode  ${running.box.supervisor.version} on loopback, supervised by the box
  model     ${env.demoModel ? "scripted demo model (no API key set)" : "from your API keys"}
  repos     ${env.gitBaseUrl}${env.gitBaseUrl.startsWith("file://") ? "  (try demo/hello)" : ""}

  try:  curl -H "Authorization: Bearer $(cat ${token})" ${running.url}/mgmt/chats
`);
