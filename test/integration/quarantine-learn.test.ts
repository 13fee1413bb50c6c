// "Report as spam" and "release and learn as ham" teach the built-in classifier: each is a lesson
// kept in the store (once per message and label), applied at once to the model the recipient's
// policy scores with, within the per-user cap; the model file (shipped or configured) is never
// written. Next hop: maildir.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../src/runtime.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import { createQuarantineOps, classifierLearner } from "../../src/quarantine/index.ts";
import { DEFAULT_MODEL_PATH, SpamModel } from "../../src/filters/spam/index.ts";
import { FeatureSet } from "../../src/filters/spam/features.ts";
import { inputFromBytes } from "../../src/filters/spam/message-input.ts";
import { tokenize } from "../../src/filters/spam/tokenizer.ts";

const MESSAGE = Buffer.from(
  "From: deals@x.org\r\nTo: alice@example.com\r\nSubject: quarterly garden gnome auction\r\n\r\n" +
    "Bid on garden gnomes in the quarterly auction, lots 14 to 22, viewing on Tuesday.\r\n",
);

async function logOdds(model: SpamModel, message = MESSAGE): Promise<number> {
  const fs = new FeatureSet(model.meta.bits);
  fs.reset();
  const t = tokenize(await inputFromBytes(message), { maxChars: model.meta.maxChars }, fs);
  return model.score(fs, t.contentCount).raw;
}

describe("spam feedback from the quarantine", () => {
  let dir: string;
  let rt: Runtime;
  const live = () => rt.spamLearning!.refresh("", () => SpamModel.load(DEFAULT_MODEL_PATH));
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-learn-"));
    rt = await Runtime.create({
      logger: pino({ level: "silent" }),
      configText: `
store: sqlite:${dir}/store.db
delivery: maildir:${dir}/mail
log: { level: silent }
tenants:
  - { id: example, domains: [example.com], verify_recipients: false }
`,
    });
    for (const id of ["L1", "L2"]) {
      const env = emptyEnvelope("inbound");
      env.mailFrom = { address: "deals@x.org", params: {} };
      env.recipients = [{ address: "alice@example.com", params: {} }];
      await rt.store!.putQuarantine({
        id,
        tenant: "example",
        envelope: env,
        score: 9,
        symbols: [],
        subject: "auction",
        message: MESSAGE,
        recipients: [{ address: "alice@example.com", reason: "spam" }],
      });
    }
  });
  afterAll(async () => {
    await rt?.close();
  });

  it("report as spam raises the message's log-odds once; release and learn as ham lowers them", async () => {
    const shippedBefore = statSync(DEFAULT_MODEL_PATH).mtimeMs;
    const ops = createQuarantineOps(rt);
    const z0 = await logOdds(await live());
    await ops.reportSpam("L1", { actor: "alice@example.com" });
    const z1 = await logOdds(await live());
    expect(z1).toBeGreaterThan(z0);
    // Same message, same label (L2 has the same bytes): one lesson, the model is unchanged.
    await ops.reportSpam("L2", { actor: "alice@example.com" });
    expect(await logOdds(await live())).toBe(z1);
    const res = await ops.release("L1", "all", { actor: "alice@example.com", learnAsHam: true });
    expect(res.released).toEqual(["alice@example.com"]);
    expect(readdirSync(join(dir, "mail", "example.com", "alice", "new")).length).toBe(1);
    expect(await logOdds(await live())).toBeLessThan(z1);
    const stats = await rt.store!.spamLessonStats!();
    expect(stats.map((s) => [s.label, s.source, s.count])).toEqual([
      ["ham", "release", 1],
      ["spam", "feedback", 1],
    ]);
    // Lessons live in the store; the shipped model file is never written.
    expect(statSync(DEFAULT_MODEL_PATH).mtimeMs).toBe(shippedBefore);
  });

  it("caps lessons per user per day and refuses unauthenticated actors", async () => {
    const learner = classifierLearner(rt);
    const msg = (n: number) => Buffer.concat([MESSAGE, Buffer.from(`variant ${n}\r\n`)]);
    const as = (actor: string, n: number) =>
      learner.learn(msg(n), "spam", { actor, recipient: "alice@example.com" });
    expect(await as("anonymous", 0)).toBe("unauthenticated");
    for (let n = 1; n <= 3; n++) expect(await as("bob@example.com", n)).toBe("learned");
    // The default cap is 200 a day; the count is per actor, in the store.
    expect(await rt.store!.countSpamLessons!({ actor: "bob@example.com" })).toBe(3);
    expect(await as("carol@example.com", 1)).toBe("duplicate");
  });
});
