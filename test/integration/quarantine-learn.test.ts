// "Report as spam" and "release and learn as ham" feed the built-in classifier: the model file
// of the recipient's policy moves toward the label, once per message and label, within the
// per-user cap, and the shipped default model is never written. Next hop: maildir.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { copyFileSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../src/runtime.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import { createQuarantineOps, classifierLearner } from "../../src/quarantine/index.ts";
import { DEFAULT_MODEL_PATH, SpamModel } from "../../src/filters/spam/index.ts";
import { SpamFeedback } from "../../src/filters/spam/feedback.ts";
import { FeatureSet } from "../../src/filters/spam/features.ts";
import { inputFromBytes } from "../../src/filters/spam/message-input.ts";
import { tokenize } from "../../src/filters/spam/tokenizer.ts";

const MESSAGE = Buffer.from(
  "From: deals@x.org\r\nTo: alice@example.com\r\nSubject: quarterly garden gnome auction\r\n\r\n" +
    "Bid on garden gnomes in the quarterly auction, lots 14 to 22, viewing on Tuesday.\r\n",
);

async function probability(model: string): Promise<number> {
  const m = await SpamModel.load(model);
  const fs = new FeatureSet(m.meta.bits);
  tokenize(await inputFromBytes(MESSAGE), { maxChars: m.meta.maxChars }, fs);
  return m.probability(fs.indices, fs.count);
}

describe("spam feedback from the quarantine", () => {
  let dir: string;
  let model: string;
  let rt: Runtime;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-learn-"));
    model = join(dir, "local.model.gz");
    copyFileSync(DEFAULT_MODEL_PATH, model);
    rt = await Runtime.create({
      logger: pino({ level: "silent" }),
      configText: `
store: sqlite:${dir}/store.db
delivery: maildir:${dir}/mail
log: { level: silent }
policy:
  filters:
    spam-classifier: { options: { model: "${model}" } }
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

  it("report as spam raises the message's spam probability once; learn as ham lowers it", async () => {
    const ops = createQuarantineOps(rt);
    const p0 = await probability(model);
    await ops.reportSpam("L1", { actor: "alice@example.com" });
    const p1 = await probability(model);
    expect(p1).toBeGreaterThan(p0);
    // Same message, same label (L2 has the same bytes): deduplicated, the model is unchanged.
    await ops.reportSpam("L2", { actor: "alice@example.com" });
    expect(await probability(model)).toBe(p1);
    const res = await ops.release("L1", "all", { actor: "alice@example.com", learnAsHam: true });
    expect(res.released).toEqual(["alice@example.com"]);
    expect(readdirSync(join(dir, "mail", "example.com", "alice", "new")).length).toBe(1);
    expect(await probability(model)).toBeLessThan(p1);
  });

  it("caps lessons per user and never writes the shipped default model", async () => {
    const fb = new SpamFeedback({ perUserPerDay: 2 });
    const other = join(dir, "capped.model.gz");
    copyFileSync(DEFAULT_MODEL_PATH, other);
    const msg = (n: number) => Buffer.concat([MESSAGE, Buffer.from(`variant ${n}\r\n`)]);
    expect(await fb.learn(other, msg(1), "spam", "bob@example.com")).toBe("learned");
    expect(await fb.learn(other, msg(2), "spam", "BOB@example.com")).toBe("learned");
    expect(await fb.learn(other, msg(3), "spam", "bob@example.com")).toBe("capped");
    expect(await fb.learn(other, msg(3), "spam", "carol@example.com")).toBe("learned");
    const before = statSync(DEFAULT_MODEL_PATH).mtimeMs;
    expect(await fb.learn(DEFAULT_MODEL_PATH, msg(4), "spam", "bob@example.com")).toBe("default-model");
    expect(statSync(DEFAULT_MODEL_PATH).mtimeMs).toBe(before);
    // The runtime's learner finds the model through the recipient's policy.
    const learner = classifierLearner(rt, fb);
    expect(
      await learner.learn(msg(5), "ham", { actor: "dave@example.com", recipient: "alice@example.com" }),
    ).toBe("learned");
  });
});
