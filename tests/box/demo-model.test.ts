import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_MODEL_ID, demoModelConfig } from "../../box/demo-model/config.ts";
import { answer, type ChatCompletionRequest } from "../../box/demo-model/script.ts";
import { startDemoModel, type DemoModel } from "../../box/demo-model/server.ts";
import { startScratchOpencode, subscribeEvents, type ScratchOpencode } from "../helpers/scratch-opencode.ts";

const SYSTEM = "You are opencode.\n<env>\n  Working directory: /work/repo\n</env>";
const TOOLS = ["bash", "edit", "question", "read", "write"].map((name) => ({ type: "function", function: { name } }));

function request(userText: string, toolResults = 0): ChatCompletionRequest {
  const after = Array.from({ length: toolResults }, (_, i) => [
    { role: "assistant", content: "", tool_calls: [{ id: `c${i}`, type: "function" }] },
    { role: "tool", content: "ok", tool_call_id: `c${i}` },
  ]).flat();
  return {
    model: "scripted",
    stream: true,
    tools: TOOLS,
    messages: [{ role: "system", content: SYSTEM }, { role: "user", content: userText }, ...after],
  };
}

const textOf = (actions: ReturnType<typeof answer>) => actions.flatMap((a) => (a.type === "text" ? [a.text] : [])).join("");

describe("script.answer (pure)", () => {
  const script = "write hello.txt: hi\\nthere\nbash: ls\nedit hello.txt: hi => bye\nask: Pick one | red | blue\nsay: all good";

  it("issues the tool step matching the number of tool results after the latest user message", () => {
    expect(answer(request(script, 0))).toEqual([
      { type: "tool", name: "write", args: { filePath: "/work/repo/hello.txt", content: "hi\nthere" } },
    ]);
    expect(answer(request(script, 1))).toEqual([{ type: "tool", name: "bash", args: { command: "ls" } }]);
    expect(answer(request(script, 2))).toEqual([
      { type: "tool", name: "edit", args: { filePath: "/work/repo/hello.txt", oldString: "hi", newString: "bye" } },
    ]);
    const ask = answer(request(script, 3));
    expect(ask).toEqual([
      {
        type: "tool",
        name: "question",
        args: {
          questions: [
            {
              question: "Pick one",
              header: "Pick one",
              options: [
                { label: "red", description: "red" },
                { label: "blue", description: "blue" },
              ],
            },
          ],
        },
      },
    ]);
    expect(answer(request(script, 4))).toEqual([{ type: "text", text: "all good" }]);
  });

  it("counts only tool results after the latest user message", () => {
    const req = request("bash: ls", 1);
    req.messages.push({ role: "user", content: "write a.txt: x" });
    expect(answer(req)).toEqual([{ type: "tool", name: "write", args: { filePath: "/work/repo/a.txt", content: "x" } }]);
  });

  it("summarises the steps when there is no say, and pauses for sleep", () => {
    expect(textOf(answer(request("write hello.txt: hi\nbash: ls", 2)))).toBe("Done: wrote hello.txt, ran `ls`.");
    const sleepy = answer(request("sleep: 500\nbash: ls", 0));
    expect(sleepy.map((a) => a.type)).toEqual(["text", "pause", "tool"]);
    expect(sleepy[1]).toEqual({ type: "pause", ms: 500 });
  });

  it("answers a title request with the first words of the user text", () => {
    const title: ChatCompletionRequest = {
      model: "scripted",
      messages: [
        { role: "system", content: "You are a title generator. You output ONLY a thread title." },
        { role: "user", content: "Generate a title for this conversation:\n" },
        { role: "user", content: "fix the flaky login test on main please now" },
      ],
    };
    expect(answer(title)).toEqual([{ type: "text", text: "fix the flaky login test on" }]);
  });

  it("writes a demo file, then streams a friendly reply word by word, for free text", () => {
    const first = answer(request("Add a README please"));
    expect(first).toEqual([
      {
        type: "tool",
        name: "write",
        args: { filePath: "/work/repo/ocweb-demo/add-a-readme-please.md", content: "# Add a README please\n\nAdd a README please\n" },
      },
    ]);
    const reply = answer(request("Add a README please", 1));
    expect(reply.filter((a) => a.type === "pause").length).toBeGreaterThan(10);
    expect(textOf(reply)).toContain("scripted demo model");
    expect(textOf(reply)).toContain("> Add a README please");
  });
});

describe("demo model server", () => {
  let model: DemoModel;
  beforeAll(async () => {
    model = await startDemoModel({ port: 0 });
  });
  afterAll(() => model.close());

  const post = (body: string) =>
    fetch(`${model.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });

  it("answers garbage with 400 in OpenAI's error shape", async () => {
    for (const body of ["{not json", JSON.stringify({ model: "scripted" }), JSON.stringify([1, 2])]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: { message: string; type: string } };
      expect(json.error.type).toBe("invalid_request_error");
      expect(json.error.message).toBeTruthy();
    }
    const models = await fetch(`${model.baseURL}/models`);
    expect(models.status).toBe(200);
    expect(await models.json()).toMatchObject({ object: "list", data: [{ id: "scripted" }] });
  });

  it("streams chat.completion.chunk frames that end with finish_reason, usage and [DONE]", async () => {
    const res = await post(JSON.stringify(request("bash: echo hi")));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const frames = (await res.text()).trim().split("\n\n");
    expect(frames.at(-1)).toBe("data: [DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice("data: ".length)));
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    const args = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []).map((t) => t.function.arguments).join("");
    expect(JSON.parse(args)).toEqual({ command: "echo hi" });
    expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: "tool_calls" }], usage: { total_tokens: expect.any(Number) } });
    expect(model.requests.at(-1)?.messages[1]?.content).toBe("bash: echo hi");
  });

  it("answers stream:false with a chat.completion", async () => {
    const res = await post(JSON.stringify({ ...request("say: hello", 0), stream: false }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      object: "chat.completion",
      choices: [{ message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
    });
  });
});

describe("demo model driving the real opencode", () => {
  let model: DemoModel;
  let oc: ScratchOpencode;
  let dir: string;
  let q: string;

  beforeAll(async () => {
    model = await startDemoModel();
    oc = await startScratchOpencode({ config: { ...demoModelConfig(model.baseURL), permission: { bash: "ask" } } });
    dir = await mkdtemp(path.join(os.tmpdir(), "ocweb-demo-model-repo-"));
    const git = (...args: string[]) => execa("git", args, { cwd: dir });
    await git("init", "-q");
    await git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init");
    q = `?directory=${encodeURIComponent(dir)}`;
  });
  afterAll(async () => {
    await oc?.stop();
    await model?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function call<T>(p: string, body?: object): Promise<T> {
    const init = body ? { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {};
    const res = await oc.fetch(p, init);
    expect(res.status, `${p}: ${oc.output().slice(-2000)}`).toBeLessThan(300);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }

  async function prompt(text: string) {
    const session = await call<{ id: string }>(`/session${q}`, {});
    const events = await subscribeEvents(oc, dir);
    await call(`/session/${session.id}/prompt_async${q}`, { parts: [{ type: "text", text }] });
    const idle = () => events.waitFor((e) => e.type === "session.idle" && e.properties.sessionID === session.id);
    return { id: session.id, events, idle };
  }

  type Msg = { info: { role: string; modelID?: string; time: { completed?: number } }; parts: { type: string; text?: string }[] };
  const assistantText = (msgs: Msg[]) =>
    msgs.filter((m) => m.info.role === "assistant").flatMap((m) => m.parts.flatMap((p) => (p.type === "text" ? [p.text] : []))).join("\n");

  it("runs a write step and streams the say text", async () => {
    const run = await prompt("write hello.txt: hi there\nsay: all good");
    await run.idle();
    run.events.close();
    expect(await readFile(path.join(dir, "hello.txt"), "utf8")).toBe("hi there");
    const msgs = await call<Msg[]>(`/session/${run.id}/message${q}`);
    const last = msgs.at(-1);
    expect(last?.info).toMatchObject({ role: "assistant", modelID: DEMO_MODEL_ID.split("/")[1] });
    expect(last?.info.time.completed).toBeTypeOf("number");
    expect(assistantText(msgs)).toContain("all good");
    expect(run.events.seen.some((e) => e.type === "message.part.delta")).toBe(true);

    // The argument names the script relies on, as opencode itself declares them.
    type Tool = { function: { name: string; parameters: { required: string[] } } };
    const offered = (model.requests.find((r) => r.tools?.length)?.tools ?? []) as Tool[];
    const required = (name: string) => offered.find((t) => t.function.name === name)?.function.parameters.required;
    expect(required("write")).toEqual(expect.arrayContaining(["filePath", "content"]));
    expect(required("edit")).toEqual(expect.arrayContaining(["filePath", "oldString", "newString"]));
    expect(required("bash")).toEqual(["command"]);
    expect(required("question")).toEqual(["questions"]);
  });

  it("asks permission for bash and runs it after a reply", async () => {
    const run = await prompt("bash: echo ok > ran.txt");
    const asked = await run.events.waitFor((e) => e.type === "permission.asked" && e.properties.sessionID === run.id);
    expect(asked.properties.permission).toBe("bash");
    await call(`/permission/${String(asked.properties.id)}/reply${q}`, { reply: "once" });
    await run.idle();
    run.events.close();
    expect(await readFile(path.join(dir, "ran.txt"), "utf8")).toBe("ok\n");
    const msgs = await call<Msg[]>(`/session/${run.id}/message${q}`);
    expect(assistantText(msgs)).toContain("Done: ran `echo ok > ran.txt`.");
  });

  it("asks a question and goes on with the answer", async () => {
    const run = await prompt("ask: Which color? | red | blue\nsay: noted");
    const asked = await run.events.waitFor((e) => e.type === "question.asked" && e.properties.sessionID === run.id);
    expect(asked.properties.questions).toMatchObject([{ question: "Which color?", options: [{ label: "red" }, { label: "blue" }] }]);
    await call(`/question/${String(asked.properties.id)}/reply${q}`, { answers: [["blue"]] });
    await run.idle();
    run.events.close();
    const msgs = await call<Msg[]>(`/session/${run.id}/message${q}`);
    expect(assistantText(msgs)).toContain("noted");
    const toolResult = model.requests.filter((r) => r.tools?.length).at(-1)?.messages.at(-1);
    expect(toolResult).toMatchObject({ role: "tool" });
    expect(String(toolResult?.content)).toContain("blue");
  });
});
