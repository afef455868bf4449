import { describe, expect, it } from "vitest";
import { type Checkpoint, checkpointAfter } from "../../ui/src/chat/fork.ts";

const cp = (sha: string, at: number): Checkpoint => ({ sha, message: sha, files: [`${sha}.txt`], filesChanged: 1, pushed: true, createdAt: new Date(at).toISOString() });
const turns = [{ id: "m1", created: 1_000 }, { id: "m2", created: 5_000 }, { id: "m3", created: 9_000 }];

describe("checkpointAfter: the files as a message's run left them", () => {
  const checkpoints = [cp("c3", 9_500), cp("c1", 4_000)]; // newest first, as the box lists them; m2's run changed nothing

  it("is the newest checkpoint made before the next user message", () => {
    expect(checkpointAfter(turns, "m1", checkpoints)?.sha).toBe("c1");
    expect(checkpointAfter(turns, "m2", checkpoints)?.sha).toBe("c1");
  });

  it("is the newest of all for the last message", () => {
    expect(checkpointAfter(turns, "m3", checkpoints)?.sha).toBe("c3");
  });

  it("is undefined before any file changed, or for a message it does not know", () => {
    expect(checkpointAfter(turns, "m1", [cp("c3", 9_500)])).toBeUndefined();
    expect(checkpointAfter(turns, "nope", checkpoints)).toBeUndefined();
  });
});
