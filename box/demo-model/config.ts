export const DEMO_PROVIDER_ID = "ocweb-demo";
export const DEMO_MODEL_ID = "ocweb-demo/scripted";
/** A second name for the same script (parallel attempts "with different models"). It sorts after
 * "scripted", so opencode still names "scripted" the provider's default. */
export const DEMO_MODEL_B_ID = "ocweb-demo/alt";
/** A made-up price in USD per million tokens, so the demo and the tests show a non-zero cost. */
export const DEMO_PRICE = { input: 2, output: 10 };

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
        name: "ocweb demo (fictional prices)",
        options: { baseURL, apiKey: "ocweb-demo" },
        models: {
          scripted: scriptedModel("Scripted demo model"),
          alt: scriptedModel("Scripted demo model (alt)"),
        },
      },
    },
  };
}

function scriptedModel(name: string) {
  return {
    name,
    tool_call: true,
    reasoning: false,
    attachment: true, // images from the phone reach the model as image_url parts
    modalities: { input: ["text", "image"], output: ["text"] },
    limit: { context: 128000, output: 4096 },
    cost: DEMO_PRICE,
  };
}
