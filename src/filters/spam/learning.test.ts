// Learning at the site over a real (SQLite) store: a lesson is kept once and applied at once;
// a second node sharing the store scores with the same model; compaction publishes a revision
// both nodes load without a jump; rollback republishes an old one; the guards hold; and
// autolearn learns only on independent evidence, in balance, never against the user's word.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../store/sqlite.ts";
import { AutolearnOptions, autolearnAllowed, autolearnClass } from "./autolearn.ts";
import { FeatureSet } from "./features.ts";
import { DEFAULT_LEARN, emptyModel, learn, type Example } from "./learner.ts";
import { SpamLearning } from "./learning.ts";
import { inputFromBytes } from "./message-input.ts";
import type { SpamModel } from "./model.ts";
import { tokenize } from "./tokenizer.ts";

const msg = (subject: string, body: string, from = "a@example.org") =>
  Buffer.from(`From: ${from}\r\nTo: b@example.net\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);

const NEWSLETTER = msg("Quarterly gardening digest", "tulip bulbs compost mulch pruning roses");

async function baseModel(): Promise<SpamModel> {
  const base = emptyModel({ bits: 16, maxChars: 2000, source: "test" });
  const fs = new FeatureSet(16);
  const ex: Example[] = [];
  for (const [raw, spam] of [
    [msg("cheap pills", "buy cheap pills now"), true],
    [msg("meeting", "notes from the meeting"), false],
  ] as const) {
    fs.reset();
    tokenize(await inputFromBytes(raw), { maxChars: 2000 }, fs);
    ex.push({ indices: fs.snapshot(), hashes: fs.snapshotHashes(), spam });
  }
  return learn(
    ex,
    { ...DEFAULT_LEARN, bits: 16, maxChars: 2000, epochs: 10, learningRate: 10, hamWeight: 1, ensemble: 1 },
    base,
  );
}

async function logOdds(model: SpamModel, raw: Buffer): Promise<number> {
  const fs = new FeatureSet(model.meta.bits);
  fs.reset();
  const t = tokenize(await inputFromBytes(raw), { maxChars: model.meta.maxChars }, fs);
  return model.score(fs, t.contentCount).raw;
}

const stores: SqliteStore[] = [];
async function setup() {
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), "spam-learn-")), "s.db"));
  await store.migrate();
  stores.push(store);
  const file = await baseModel();
  const base = () => Promise.resolve(file);
  const node = (pollMs = 0) => new SpamLearning(store, { pollMs, settleMs: 0 });
  return { store, base, node };
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe("SpamLearning", () => {
  it("keeps a lesson once, applies it at once, and a second node scores with the same model", async () => {
    const { store, base, node } = await setup();
    const a = node();
    const b = node();
    const before = await logOdds(await a.model("", base), NEWSLETTER);
    const req = {
      message: NEWSLETTER,
      label: "spam" as const,
      source: "feedback" as const,
      actor: "alice@example.net",
      scope: "",
    };
    expect(await a.learn(req, base)).toBe("learned");
    const after = await logOdds(await a.model("", base), NEWSLETTER);
    expect(after).toBeGreaterThan(before);
    expect(await a.learn(req, base)).toBe("duplicate");
    // The other node picks the lesson up from the store (here on its next refresh).
    expect(await logOdds(await b.refresh("", base), NEWSLETTER)).toBe(after);
    // The file model itself is never written.
    expect(await logOdds(await base(), NEWSLETTER)).toBe(before);
    const [stat] = await store.spamLessonStats();
    expect(stat).toMatchObject({ scope: "", label: "spam", source: "feedback", count: 1 });
  });

  it("refuses unauthenticated actors and caps lessons per actor per day", async () => {
    const { base, store } = await setup();
    const a = new SpamLearning(store, { pollMs: 0, perActorPerDay: 2 });
    const learnAs = (actor: string | null, n: number) =>
      a.learn(
        { message: msg(`offer ${n}`, `variant ${n}`), label: "spam", source: "feedback", actor, scope: "" },
        base,
      );
    for (const actor of [null, "", "anonymous", "two words"])
      expect(await learnAs(actor, 0)).toBe("unauthenticated");
    expect(await learnAs("bob@example.net", 1)).toBe("learned");
    expect(await learnAs("BOB@example.net", 2)).toBe("learned");
    expect(await learnAs("bob@example.net", 3)).toBe("capped");
    expect(await learnAs("carol@example.net", 3)).toBe("learned");
  });

  it("records whether the classifier disagreed with the user", async () => {
    const { base, node, store } = await setup();
    const a = node();
    const lesson = (subject: string, body: string, label: "spam" | "ham") =>
      a.learn(
        { message: msg(subject, body), label, source: "feedback", actor: "x@example.net", scope: "" },
        base,
      );
    await lesson("cheap pills", "buy cheap pills now", "spam"); // the model agrees
    await lesson("cheap pills again", "buy cheap pills now, now", "ham"); // it does not
    const stats = await store.spamLessonStats();
    expect(stats.find((s) => s.label === "spam")!.disagreements).toBe(0);
    expect(stats.find((s) => s.label === "ham")!.disagreements).toBe(1);
  });

  it("compacts lessons into a revision every node loads without a jump, and rolls back", async () => {
    const { base, node } = await setup();
    const a = node();
    const b = node();
    const before = await logOdds(await a.model("", base), NEWSLETTER);
    await a.learn(
      { message: NEWSLETTER, label: "spam", source: "feedback", actor: "u@example.net", scope: "" },
      base,
    );
    const learned = await logOdds(await a.model("", base), NEWSLETTER);
    const rev = await a.compact("", base);
    expect(rev).toMatchObject({ scope: "", lessonsUpTo: 1, rollbackOf: null });
    expect(await a.compact("", base)).toBeNull(); // nothing new
    expect(await logOdds(await b.refresh("", base), NEWSLETTER)).toBeCloseTo(learned, 4);
    expect((await b.status())[0]).toMatchObject({ scope: "", rev: rev!.rev, lastLesson: 1 });
    // A later lesson applies on top of the revision.
    await a.learn(
      {
        message: msg("more", "tulip compost offer"),
        label: "spam",
        source: "feedback",
        actor: "u@example.net",
        scope: "",
      },
      base,
    );
    // Rollback: the first revision again, lessons since then are not re-applied.
    const first = await a.compact("", base);
    const rb = await a.rollback(rev!.rev, "admin");
    expect(rb).toMatchObject({ rollbackOf: rev!.rev, lessonsUpTo: 2 });
    expect(first!.rev).toBeLessThan(rb.rev);
    expect(await logOdds(await b.refresh("", base), NEWSLETTER)).toBeCloseTo(learned, 4);
    expect(learned).toBeGreaterThan(before);
  });

  it("keeps per-tenant models apart from the shared one", async () => {
    const { base, node } = await setup();
    const a = node();
    const shared = await logOdds(await a.model("", base), NEWSLETTER);
    await a.learn(
      {
        message: NEWSLETTER,
        label: "spam",
        source: "feedback",
        actor: "u@t1.example",
        scope: "t1",
        tenant: "t1",
      },
      base,
    );
    expect(await logOdds(await a.model("t1", base), NEWSLETTER)).toBeGreaterThan(shared);
    expect(await logOdds(await a.refresh("", base), NEWSLETTER)).toBe(shared);
  });
});

describe("autolearn", () => {
  const o = AutolearnOptions.parse({ enabled: true });
  const evidence = (over: Partial<Parameters<typeof autolearnClass>[0]> = {}) => ({
    otherScore: 0,
    earlier: [],
    authenticated: false,
    correspondent: () => Promise.resolve(false),
    logOdds: 0,
    ...over,
  });

  it("learns spam on a strong non-classifier score or a blacklist hit, ham on authenticated or DMARC-aligned correspondents", async () => {
    expect((await autolearnClass(evidence({ otherScore: 14 }), o)).learn).toBe("spam");
    expect((await autolearnClass(evidence({ earlier: [{ name: "USER_BLACKLIST" }] }), o)).learn).toBe("spam");
    expect((await autolearnClass(evidence({ authenticated: true }), o)).learn).toBe("ham");
    const dmarc = evidence({ earlier: [{ name: "DMARC_PASS" }], correspondent: () => Promise.resolve(true) });
    expect((await autolearnClass(dmarc, o)).learn).toBe("ham");
    // DMARC alone, or a correspondent without DMARC, is not evidence.
    expect((await autolearnClass(evidence({ earlier: [{ name: "DMARC_PASS" }] }), o)).learn).toBeNull();
    expect(
      (await autolearnClass(evidence({ correspondent: () => Promise.resolve(true) }), o)).learn,
    ).toBeNull();
    // Nothing to learn when the classifier is already sure.
    expect(await autolearnClass(evidence({ otherScore: 14, logOdds: 9 }), o)).toEqual({
      learn: null,
      why: "classifier already sure",
    });
    expect((await autolearnClass(evidence({ otherScore: 5 }), o)).learn).toBeNull();
  });

  it("keeps classes in balance, limits the rate per tenant, and never goes against the user's feedback", async () => {
    const { store, base, node } = await setup();
    const a = node();
    const q = {
      scope: "",
      tenant: "t",
      label: "spam" as const,
      recipient: "u@t.example",
      sender: "s@x.example",
    };
    const now = new Date();
    const tight = { ...o, slack: 2, balance: 2, per_hour: 1000 };
    for (let i = 0; i < 2; i++)
      await a.learn(
        {
          message: msg(`auto ${i}`, `spam ${i}`),
          label: "spam",
          source: "autolearn",
          actor: null,
          scope: "",
          tenant: "t",
          recipient: "u@t.example",
        },
        base,
      );
    expect(await autolearnAllowed(store, tight, q, now)).toEqual({
      ok: false,
      why: "class balance (2 vs 0)",
    });
    expect((await autolearnAllowed(store, tight, { ...q, label: "ham" }, now)).ok).toBe(true);
    expect(await autolearnAllowed(store, { ...o, per_hour: 2 }, q, now)).toEqual({
      ok: false,
      why: "autolearn rate reached",
    });
    // The user released mail from this sender: no spam lesson from autolearn for it.
    await a.learn(
      {
        message: msg("hello", "from s"),
        label: "ham",
        source: "release",
        actor: "u@t.example",
        recipient: "u@t.example",
        sender: "s@x.example",
        scope: "",
        tenant: "t",
      },
      base,
    );
    expect(await autolearnAllowed(store, o, q, now)).toEqual({
      ok: false,
      why: "the user marked this sender ham",
    });
    expect((await autolearnAllowed(store, o, { ...q, sender: "other@x.example" }, now)).ok).toBe(true);
  });
});

describe("SpamLearning with the store down", () => {
  it("scores with the model file and catches up when the store answers again", async () => {
    const { store, base } = await setup();
    const writer = new SpamLearning(store, { pollMs: 0 });
    await writer.learn(
      { message: NEWSLETTER, label: "spam", source: "feedback", actor: "u@example.net", scope: "" },
      base,
    );
    let down = true;
    const flaky = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== "function") return v;
        return (...args: unknown[]) =>
          down
            ? Promise.reject(new Error("connection refused"))
            : (v as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
    const node = new SpamLearning(flaky, { pollMs: 0 });
    const fileScore = await logOdds(await base(), NEWSLETTER);
    expect(await logOdds(await node.model("", base), NEWSLETTER)).toBe(fileScore);
    down = false;
    expect(await logOdds(await node.refresh("", base), NEWSLETTER)).toBe(
      await logOdds(await writer.model("", base), NEWSLETTER),
    );
  });
});
