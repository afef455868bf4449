import { describe, expect, it } from "vitest";
import { MAX_ATTACHMENT_BYTES, promptFilesSchema } from "../../lib/prompt-input.ts";
import { addWithinLimits, fitWithin, MAX_FILES, MAX_TOTAL_CHARS, storable, type Attachment } from "../../ui/src/lib/attachments.ts";

const image = (name: string, chars: number): Attachment => ({ mime: "image/png", filename: name, url: `data:image/png;base64,${"A".repeat(chars - 22)}` });

describe("the UI's limits", () => {
  it("are the worker's", () => {
    expect(MAX_TOTAL_CHARS).toBe(MAX_ATTACHMENT_BYTES);
    const files = (n: number) => Array.from({ length: n }, (_, i) => image(`${i}.png`, 100));
    expect(promptFilesSchema.safeParse(files(MAX_FILES)).success).toBe(true);
    expect(promptFilesSchema.safeParse(files(MAX_FILES + 1)).success).toBe(false);
  });
});

describe("fitWithin", () => {
  it("shrinks the long side to the limit, keeps the ratio, never enlarges", () => {
    expect(fitWithin(4032, 3024)).toEqual({ width: 2048, height: 1536 });
    expect(fitWithin(1080, 2400)).toEqual({ width: 922, height: 2048 });
    expect(fitWithin(800, 600)).toEqual({ width: 800, height: 600 });
    expect(fitWithin(10_000, 1)).toEqual({ width: 2048, height: 1 });
  });
});

describe("addWithinLimits", () => {
  it("adds in order until the count or the total runs out, and names what was left out", () => {
    const nine = Array.from({ length: 9 }, (_, i) => image(`a${i}.png`, 1000));
    const more = addWithinLimits(nine, [image("b.png", 1000), image("c.png", 1000)]);
    expect(more.files.map((f) => f.filename)).toEqual([...nine.map((f) => f.filename), "b.png"]);
    expect(more.error).toBe("At most 10 images per message: c.png left out.");

    const big = addWithinLimits([image("x.png", MAX_TOTAL_CHARS - 500)], [image("y.png", 600), image("z.png", 400)]);
    expect(big.files.map((f) => f.filename)).toEqual(["x.png", "z.png"]);
    expect(big.error).toBe("Images must total at most 4.0 MB: y.png left out.");
    expect(addWithinLimits([], [image("ok.png", 50)])).toEqual({ files: [image("ok.png", 50)], error: undefined });
  });
});

describe("storable", () => {
  it("keeps the oldest sends' images within the budget and counts the ones it drops", () => {
    const sends = [
      { promptId: "1", files: [image("a.png", 600)] },
      { promptId: "2" },
      { promptId: "3", files: [image("b.png", 300), image("c.png", 300)] },
      { promptId: "4", files: [image("d.png", 300)] },
    ];
    expect(storable(sends, 1000)).toEqual([
      sends[0],
      sends[1],
      { promptId: "3", files: [], filesDropped: 2 },
      sends[3],
    ]);
    expect(storable(sends)).toEqual(sends);
  });
});
