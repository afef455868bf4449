import path from "node:path";
import { z } from "zod";
import { statfsNearest } from "./disk/statfs.ts";

const modelKeyNames = [
  "ANTHROPIC_API_KEY",
  "OPENAI_API_KEY",
  "OPENROUTER_API_KEY",
  "GOOGLE_GENERATIVE_AI_API_KEY",
  "GROQ_API_KEY",
  "XAI_API_KEY",
  "DEEPSEEK_API_KEY",
  "MISTRAL_API_KEY",
] as const;

/** OPENCODE_* variables the box reads itself instead of passing to opencode. */
const boxOwned = new Set(["OPENCODE_BIN", "OPENCODE_PORT", "OPENCODE_SERVER_PASSWORD", "OPENCODE_SERVER_USERNAME"]);

const flag = z
  .enum(["0", "1", "true", "false"])
  .transform((v) => v === "1" || v === "true");

const schema = z.object({
  /**
   * The bearer the worker sends and the webhooks' HMAC key, for the box the worker's own BOX_URL +
   * BOX_TOKEN name. Not needed by a box that registers itself (below) or registered before.
   */
  BOX_TOKEN: z.string().min(32, "BOX_TOKEN must be at least 32 characters").optional(),
  /**
   * One more box for a user: the one-time key the UI showed (Box → Add a box). At its first start the
   * box registers at WORKER_URL as BOX_PUBLIC_URL and keeps the identity and secret it gets in its
   * state db; later starts use those and ignore the key (and BOX_TOKEN).
   */
  OCWEB_REGISTRATION_KEY: z.string().min(16).max(200).optional(),
  /** Where the worker reaches this box (its tunnel URL; http only on loopback); announced on every hello. */
  BOX_PUBLIC_URL: z.string().url().optional(),
  BOX_HOST: z.string().default("127.0.0.1"),
  BOX_PORT: z.coerce.number().int().min(0).max(65535).default(8790),
  OCWEB_DATA: z.string().default("./.data/box"),
  GIT_BASE_URL: z.string().url().default("https://github.com"),
  GITHUB_TOKEN: z.string().optional(),
  WORKER_URL: z.string().url().optional(),
  DISK_BUDGET_BYTES: z.coerce.number().int().positive().optional(),
  OCWEB_DEMO_MODEL: flag.optional(),
  OPENCODE_BIN: z.string().optional(),
  OPENCODE_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  OCWEB_SETUP_TIMEOUT_MS: z.coerce.number().int().positive().default(10 * 60_000),
}).superRefine((e, ctx) => {
  if (!e.OCWEB_REGISTRATION_KEY) return;
  const need = (name: "WORKER_URL" | "BOX_PUBLIC_URL") => !e[name] && ctx.addIssue({ code: "custom", path: [name], message: `${name} is required with OCWEB_REGISTRATION_KEY` });
  need("WORKER_URL");
  need("BOX_PUBLIC_URL");
});

export type BoxEnv = ReturnType<typeof parseBoxEnv>;

/** The only place the box reads process.env. Throws with the names of bad variables. */
export function parseBoxEnv(env: NodeJS.ProcessEnv = process.env) {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`box: bad environment\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.OCWEB_DATA);
  const modelKeys = Object.fromEntries(
    modelKeyNames.filter((k) => env[k]).map((k) => [providerIdFor(k), env[k] as string]),
  );
  const opencodeEnv = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith("OPENCODE_") && !boxOwned.has(k) && v !== undefined),
  ) as Record<string, string>;
  return {
    /** Undefined when the box registers (or registered) itself: box.ts then takes the token from its state db. */
    token: e.BOX_TOKEN,
    registrationKey: e.OCWEB_REGISTRATION_KEY,
    publicUrl: e.BOX_PUBLIC_URL?.replace(/\/+$/, ""),
    host: e.BOX_HOST,
    port: e.BOX_PORT,
    dataDir,
    gitBaseUrl: e.GIT_BASE_URL.replace(/\/+$/, ""),
    githubToken: e.GITHUB_TOKEN,
    workerUrl: e.WORKER_URL?.replace(/\/+$/, ""),
    diskBudgetBytes: e.DISK_BUDGET_BYTES ?? defaultDiskBudget(dataDir),
    demoModel: e.OCWEB_DEMO_MODEL ?? Object.keys(modelKeys).length === 0,
    modelKeys,
    opencodeEnv,
    opencodeBin: e.OPENCODE_BIN,
    opencodePort: e.OPENCODE_PORT,
    setupTimeoutMs: e.OCWEB_SETUP_TIMEOUT_MS,
  };
}

function providerIdFor(keyName: string) {
  return keyName.replace(/_API_KEY$/, "").toLowerCase().replace("google_generative_ai", "google");
}

function defaultDiskBudget(dir: string) {
  const fs = statfsNearest(dir);
  return Math.floor(fs.blocks * fs.bsize * 0.8);
}
