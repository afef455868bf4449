import { parseArgs } from "node:util";
import { startDemoModel } from "./server.ts";

const { values } = parseArgs({
  options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`demo-model: bad --port ${values.port}`);
  process.exit(2);
}
const model = await startDemoModel({ port, host: values.host });
console.log(model.baseURL);
const stop = () => void model.close().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
