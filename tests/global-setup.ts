import { execa } from "execa";
import { buildWorker } from "./helpers/worker-harness.ts";

/** Once per `vitest run`: the UI bundle (served by the worker) and the worker bundle (run in workerd). */
export default async function setup() {
  // OCWEB_SKIP_UI_BUILD=1 for a backend-only run (UI tests then use whatever ui/dist holds).
  if (process.env.OCWEB_SKIP_UI_BUILD !== "1") {
    await execa("npx", ["vite", "build", "--config", "ui/vite.config.ts", "--logLevel", "warn"], { stdio: "inherit" });
  }
  await buildWorker();
}
