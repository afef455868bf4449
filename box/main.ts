import { parseBoxEnv } from "./env.ts";
import { closeOnSignals, serveBox } from "./serve.ts";

// A bad environment or a refused registration key is the operator's to fix: say why and exit, never loop.
try {
  const env = parseBoxEnv();
  const running = await serveBox(env);
  closeOnSignals(running.close);
  console.log(`box listening on ${running.url} (opencode ${running.box.supervisor.version}, data ${env.dataDir}${env.demoModel ? ", demo model" : ""})`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
