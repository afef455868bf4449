export const DEMO_PROVIDER_ID = "ocweb-demo";
export const DEMO_MODEL_ID = "ocweb-demo/scripted";

/** opencode config that points it at the scripted model. Callers add `permission` themselves. */
export function demoModelConfig(baseURL: string) {
  return {
    $schema: "https://opencode.ai/config.json",
    autoupdate: false,
    share: "disabled",
    enabled_providers: [DEMO_PROVIDER_ID],
    model: DEMO_MODEL_ID,
    small_model: DEMO_MODEL_ID,
    provider: {
      [DEMO_PROVIDER_ID]: {
        npm: "@ai-sdk/openai-compatible",
        name: "ocweb demo",
        options: { baseURL, apiKey: "ocweb-demo" },
        models: {
          scripted: {
            name: "Scripted demo model",
            tool_call: true,
            reasoning: false,
            attachment: false,
            limit: { context: 128000, output: 4096 },
          },
        },
      },
    },
  };
}
