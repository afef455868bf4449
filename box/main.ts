import { parseBoxEnv } from "./env.ts";
import { closeOnSignals, serveBox } from "./serve.ts";

const env = parseBoxEnv();
const running = await serveBox(env);
closeOnSignals(running.close);
console.log(`box listening on ${running.url} (opencode ${running.box.supervisor.version}, data ${env.dataDir}${env.demoModel ? ", demo model" : ""})`);
