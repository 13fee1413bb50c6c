// Daily ISP work in the console (issue 23), in real Chromium at 1,280 px, in English and
// Japanese, with a screenshot of every step attached to the test output: a reference id from a
// refusal found in the message log; every notice template rendered; a YAML user's own settings
// (and a locked one without controls); the quarantine with thousands of rows — paged, searched,
// sorted, bulk actions, reasons, collapsed symbols, no button that can only fail, no horizontal
// overflow; filter order published as a revision; the dashboard per tenant.
import { describe, it, expect, beforeAll, afterAll, type TestContext } from "vitest";
import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { FastifyInstance } from "fastify";
import { haveTool } from "../helpers/require-tool.ts";
import { startProxy, type Proxy } from "../helpers/proxy.ts";
import { SmtpClient } from "../helpers/smtp-dialog.ts";
import { ROOT } from "../helpers/cli.ts";
import { quarantineInput } from "../helpers/web.ts";
import { startWeb } from "../../src/web/server.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { hashPassword } from "../../src/policy/password.ts";
import { buildConsoleIfStale } from "../../web/build-if-stale.ts";
import { composeConfig } from "../../src/cluster/revision.ts";
import type { OverrideDirectory } from "../../src/policy/override-directory.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(ROOT, "test-results");
const WIDTH = 1280;
const LANGS = ["en", "ja"] as const;
type Lang = (typeof LANGS)[number];

const run = haveTool(CHROMIUM, "chromium");

describe.skipIf(!run)(
  "daily work in the console (Chromium, 1,280 px, en and ja)",
  { timeout: 120_000 },
  () => {
    let proxy: Proxy;
    let web: FastifyInstance;
    let base: string;
    let context: BrowserContext;

    const shot = async (t: TestContext, page: Page, name: string) => {
      const path = join(SHOTS, `issue23-${name}.png`);
      await page.screenshot({ path, fullPage: true });
      await t.annotate(name, { path, contentType: "image/png" });
    };
    const open = async (lang: Lang, login: string, password: string): Promise<Page> => {
      await context.clearCookies();
      const page = await context.newPage();
      await page.setViewportSize({ width: WIDTH, height: 900 });
      await page.goto(base + "/");
      await page.selectOption("[data-testid=lang]", lang);
      await page.fill("input[name=login]", login);
      await page.fill("input[name=password]", password);
      await page.click("[data-testid=login-submit]");
      await page.waitForSelector("[data-testid=whoami]");
      return page;
    };
    /** Nothing on the page is wider than the window, and the main area does not scroll sideways. */
    const noOverflow = async (page: Page) => {
      const w = (await page.evaluate(
        `({ doc: document.documentElement.scrollWidth,
          main: document.querySelector("main").scrollWidth - document.querySelector("main").clientWidth })`,
      )) as { doc: number; main: number };
      expect(w.doc, "page width").toBeLessThanOrEqual(WIDTH);
      expect(w.main, "main area overflow").toBeLessThanOrEqual(0);
    };

    beforeAll(async () => {
      buildConsoleIfStale();
      mkdirSync(SHOTS, { recursive: true });
      const hash = await hashPassword("user-pass-123");
      proxy = await startProxy(
        (dir) => `
node: { name: e2e23, link_secret: "e2e23-link-secret-0123456789abcdef" }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
policy:
  thresholds: { tag: 5, quarantine: 10, reject: 50 }
  filters:
    auth: { enabled: false }
tenants:
  - id: acme
    domains: [acme.test]
    language: ja
    notices: { from: notices@acme.test }
    hold: { link_base: "https://console.acme.test/link" }
    users:
      - { address: ann@acme.test, spam_filter: true, blacklist: [blocked.example], password_hash: "${hash}" }
  - id: globex
    domains: [globex.test]
    policy:
      self_service: { spam_filter: false }
    users:
      - { address: gus@globex.test, password_hash: "${hash}" }
`,
      );
      web = await startWeb(proxy.runtime, "127.0.0.1:0");
      base = `http://localhost:${(web.server.address() as { port: number }).port}`;
      const store = proxy.runtime.store!;
      await createAccount(store, proxy.runtime.config, {
        login: "root",
        role: "operator",
        password: "root-pass-123",
      });
      await createAccount(store, proxy.runtime.config, {
        login: "acme-admin",
        role: "tenant_admin",
        tenant: "acme",
        password: "acme-pass-123",
      });
      // Thousands of rows: 1,200 quarantined copies for acme, every tenth with a virus for ann.
      for (let n = 1; n <= 1200; n++) {
        const q = quarantineInput(
          `QE${String(n).padStart(4, "0")}`,
          "acme",
          [n % 2 ? "ann@acme.test" : `user${n % 7}@acme.test`],
          `Subject: offer ${n}\n\nbody ${n}\n`,
          n === 777
            ? "四半期の請求書 Quarterly invoice"
            : `Special offer number ${n} for a very long subject line that wraps`,
        );
        q.score = Math.round((n % 97) * 13) / 10;
        q.symbols =
          n % 10 === 1
            ? [{ name: "CLAMAV_VIRUS", score: 0, detail: "Eicar-Test-Signature" }]
            : [
                { name: "BAYES_SPAM", score: 6.5 },
                { name: "URIBL_BLACK", score: 3.1 },
                { name: "HTML_ONLY", score: 0.7 },
                { name: "MISSING_DATE", score: 0.4 },
                { name: "RDNS_NONE", score: 0.2 },
              ];
        q.recipients = q.recipients.map((r) => ({
          ...r,
          reason: n % 10 === 1 ? "virus Eicar-Test-Signature" : `spam score ${q.score} over 10`,
        }));
        await store.putQuarantine(q);
      }
      context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "sluice-chromium-")), {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: WIDTH, height: 900 },
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-sync",
        ],
      });
    }, 180_000);

    afterAll(async () => {
      await context?.close();
      await web?.close();
      await proxy?.close();
    });

    for (const lang of LANGS) {
      it(`item 1 (${lang}): filter order and on/off set in the console, published as a revision, shown in the trace`, async (t) => {
        const prio = lang === "en" ? 15 : 25;
        const page = await open(lang, "acme-admin", "acme-pass-123");
        await page.click("[data-testid=nav-tenants]");
        await page.waitForSelector("[data-testid=filters-acme]");
        await page.fill("[data-testid=prio-sieve]", String(prio));
        await page.setChecked("[data-testid=enabled-header_sanity]", false);
        await page.fill("[data-testid=note-acme]", `sieve before header checks (${lang})`);
        await shot(t, page, `1-filter-order-edit-${lang}`);
        await page.click("[data-testid=publish-filters-acme]");
        await page.waitForSelector("[data-testid=published-acme]");
        const rev = await proxy.runtime.store!.latestConfigRevision(proxy.runtime.config.node.role);
        expect(rev?.author).toBe("console:acme-admin");
        expect(await page.textContent("[data-testid=published-acme]")).toContain(`rev ${rev!.rev}`);
        await noOverflow(page);
        await shot(t, page, `1-filter-order-published-${lang}`);
        // This node's agent would apply the revision (a single SQLite node has none: do it here).
        proxy.runtime.applyConfigText(
          composeConfig(await proxy.runtime.localText(), rev!.text),
          `revision ${rev!.rev}`,
        );
        const c = await SmtpClient.open(proxy.port("inbound"));
        await c.cmd("EHLO client.remote.example");
        const r = await c.send(
          "friend@remote.example",
          ["ann@acme.test"],
          `From: friend@remote.example\r\nTo: ann@acme.test\r\nSubject: order test ${lang}\r\n\r\nhello\r\n`,
        );
        await c.quit();
        const ref = /queued as (\S+)/.exec(r.text)![1]!;
        await page.click("[data-testid=nav-log]");
        await page.fill("[data-testid=log-search]", ref);
        await page.click("[data-testid=log-search-submit]");
        await page.click(`[data-testid=log-row-${ref}] [data-testid=log-trace]`);
        await page.waitForSelector("[data-testid=trace]");
        expect(await page.textContent("[data-testid=trace-sieve] [data-testid=trace-priority]")).toBe(
          String(prio),
        );
        expect(await page.textContent("[data-testid=trace-header_sanity]")).toContain("disabled by policy");
        // The data stage ran in priority order.
        const cells = (await page.$$eval("[data-testid=trace] tbody tr", (rows) =>
          rows.map((r) =>
            Array.from(r.querySelectorAll("td")).map(
              (td) => (td as { textContent: string | null }).textContent ?? "",
            ),
          ),
        )) as string[][];
        const data = cells.filter((c) => c[1] === "data" && c[3] !== "").map((c) => Number(c[3]));
        expect(data.length).toBeGreaterThan(2);
        expect(data).toEqual([...data].sort((a, b) => a - b));
        await shot(t, page, `1-filter-order-trace-${lang}`);
        await page.close();
      });

      it(`item 6 (${lang}): the dashboard per tenant: throughput, actions and symbols over time, health, nodes`, async (t) => {
        // Two nodes of a cluster, one behind the newest revision.
        const now = new Date();
        const role = proxy.runtime.config.node.role;
        const latest = (await proxy.runtime.store!.latestConfigRevision(role))?.rev ?? null;
        for (const [name, rev] of [
          ["mx1", latest],
          ["mx2", latest === null ? null : latest - 1],
        ] as const)
          await proxy.runtime.store!.putHeartbeat({
            name,
            role,
            version: "0.1.0",
            startedAt: now,
            seenAt: now,
            appliedRev: rev,
            health: "ok",
            failedRev: null,
            error: null,
          });
        // Some traffic for acme and for globex in the last hour.
        for (let i = 0; i < 6; i++) {
          const c = await SmtpClient.open(proxy.port("inbound"));
          await c.cmd("EHLO client.remote.example");
          await c.send(
            `s${i}@remote.example`,
            [i % 3 === 0 ? "gus@globex.test" : "ann@acme.test"],
            `From: s${i}@remote.example\r\nSubject: dashboard ${lang} ${i}\r\n\r\nhello ${i}\r\n`,
          );
          await c.quit();
        }
        const page = await open(lang, "root", "root-pass-123");
        await page.waitForSelector("[data-testid=dashboard] svg.chart");
        await page.selectOption("[data-testid=dash-tenant]", "acme");
        await page.waitForFunction(
          "document.querySelector('[data-testid=dash-tenant]').value === 'acme' && document.querySelectorAll('svg.chart').length === 3",
        );
        expect(await page.$$eval("svg.chart", (els) => els.length)).toBe(3);
        expect(Number(await page.textContent("[data-testid=dash-messages]"))).toBeGreaterThan(0);
        expect(await page.textContent("[data-testid=dash-health]")).toContain(lang === "ja" ? "正常" : "up");
        expect(await page.textContent("[data-testid=dash-cluster]")).toContain("mx2");
        if (latest !== null)
          expect(await page.textContent("[data-testid=dash-cluster]")).toContain(
            `${lang === "ja" ? "最新は" : "newest is"} ${latest}`,
          );
        await noOverflow(page);
        await shot(t, page, `6-dashboard-acme-${lang}`);
        await page.selectOption("[data-testid=dash-range]", "10080");
        await page.waitForSelector("text=60 min");
        await shot(t, page, `6-dashboard-7d-${lang}`);
        await page.close();
        // A tenant admin sees only its own tenant's figures.
        const admin = await open(lang, "acme-admin", "acme-pass-123");
        await admin.waitForSelector("[data-testid=dashboard] svg.chart");
        expect(await admin.$("[data-testid=dash-tenant]")).toBeNull();
        expect(await admin.$("[data-testid=dash-cluster]")).toBeNull();
        expect(await admin.textContent("main")).not.toContain("globex");
        await shot(t, admin, `6-dashboard-tenant-admin-${lang}`);
        await admin.close();
      });

      it(`item 4 (${lang}): a reject at RCPT carries a reference id the message log finds`, async (t) => {
        const c = await SmtpClient.open(proxy.port("inbound"));
        await c.cmd("EHLO client.remote.example");
        await c.cmd("MAIL FROM:<bad@blocked.example>");
        const r = await c.cmd("RCPT TO:<ann@acme.test>");
        await c.quit();
        expect(r.code).toBe(550);
        const ref = /\[ref ([0-9A-Z]+)\]/.exec(r.text)![1]!;
        const page = await open(lang, "acme-admin", "acme-pass-123");
        await page.click("[data-testid=nav-log]");
        await page.fill("[data-testid=log-search]", ref);
        await page.click("[data-testid=log-search-submit]");
        await page.waitForSelector(`[data-testid=log-row-${ref}]`);
        expect(await page.textContent(`[data-testid=log-row-${ref}] [data-testid=log-reason]`)).toContain(
          `[ref ${ref}]`,
        );
        expect(await page.textContent(`[data-testid=log-row-${ref}]`)).toContain("reject");
        await page.click(`[data-testid=log-row-${ref}] [data-testid=log-trace]`);
        await page.waitForSelector("[data-testid=trace]");
        expect(await page.textContent("[data-testid=trace]")).toContain("USER_BLACKLIST");
        expect(await page.textContent("main h1")).toBe(lang === "ja" ? "メールログ" : "Message log");
        await noOverflow(page);
        await shot(t, page, `4-log-ref-${lang}`);
        // The same entry by the sender's address within a time window.
        const local = (ms: number) => {
          const d = new Date(Date.now() + ms - new Date().getTimezoneOffset() * 60_000);
          return d.toISOString().slice(0, 16);
        };
        await page.fill("[data-testid=log-search]", "bad@blocked.example");
        await page.fill("[data-testid=log-from]", local(-10 * 60_000));
        await page.fill("[data-testid=log-to]", local(10 * 60_000));
        await page.click("[data-testid=log-search-submit]");
        await page.waitForSelector(`[data-testid=log-row-${ref}]`);
        await noOverflow(page);
        await shot(t, page, `4-log-address-time-${lang}`);
        await page.close();
      });

      it(`item 3 (${lang}): every notice kind of the tenant is rendered in both languages`, async (t) => {
        const page = await open(lang, "acme-admin", "acme-pass-123");
        await page.click("[data-testid=nav-templates]");
        await page.waitForSelector("[data-testid=tpl-all-hold-ja]");
        const kinds = await page.$$eval("[data-testid=tpl-kind] option", (os) =>
          os.map((o) => (o as unknown as { value: string }).value),
        );
        expect(kinds).toEqual([
          "recipient",
          "sender",
          "admin",
          "digest",
          "hold",
          "hold-approval",
          "sieve:misdelivery-hold",
        ]);
        expect(await page.textContent("[data-testid=tpl-all-hold-ja]")).toContain(
          "送信を保留しています: Invoice 2024-001",
        );
        expect(await page.textContent("[data-testid=tpl-all-hold-en]")).toContain(
          "Your message is on hold: Invoice 2024-001",
        );
        expect(await page.textContent("[data-testid=tpl-all-digest-ja]")).toContain("隔離メールのお知らせ");
        expect(await page.textContent("[data-testid=tpl-all-recipient-en]")).toContain(
          "Eicar-Test-Signature",
        );
        // Edit the hold notice: the live preview uses the hold notice's own variables.
        await page.selectOption("[data-testid=tpl-kind]", "hold");
        await page.fill("[data-testid=tpl-subject]", "保留 {hold_id} / {subject}");
        await page.waitForSelector(
          '[data-testid=tpl-preview-subject]:text-is("保留 M8F3K2QH1 / Invoice 2024-001")',
        );
        await noOverflow(page);
        await shot(t, page, `3-templates-${lang}`);
        await page.close();
      });

      it(`item 2 (${lang}): a YAML user switches the own spam filter and lists; a locked one has no switch`, async (t) => {
        await proxy.runtime.store!.deleteUserOverride("ann@acme.test");
        (proxy.runtime.directory as OverrideDirectory).flush("ann@acme.test");
        const page = await open(lang, "ann@acme.test", "user-pass-123");
        await page.waitForSelector("[data-testid=spam-state]");
        const on = lang === "ja" ? "オン" : "ON";
        const off = lang === "ja" ? "オフ" : "OFF";
        expect(await page.textContent("[data-testid=spam-state]")).toBe(on);
        await page.click("[data-testid=spam-off]");
        await page.waitForSelector(`[data-testid=spam-state]:text-is("${off}")`);
        await page.waitForSelector("[data-testid=spam-overridden]");
        const list = page.locator("[data-testid=list-whitelist]");
        await list.locator("textarea").fill("partner.example\n*@friends.example");
        await list.locator("button").click();
        await list.locator(`text=${lang === "ja" ? "保存しました" : "Saved"}`).waitFor();
        const policy = await proxy.runtime.resolver.forRecipient("ann@acme.test");
        expect(policy.filters["spam-classifier"]?.enabled).toBe(false);
        expect(policy.lists.whitelist).toEqual(["partner.example", "*@friends.example"]);
        expect(policy.lists.blacklist).toEqual(["blocked.example"]);
        await noOverflow(page);
        await shot(t, page, `2-portal-override-${lang}`);
        await page.close();

        const locked = await open(lang, "gus@globex.test", "user-pass-123");
        await locked.waitForSelector("[data-testid=spam-locked]");
        expect(await locked.$("[data-testid=spam-on]")).toBeNull();
        expect(await locked.$("[data-testid=spam-off]")).toBeNull();
        await shot(t, locked, `2-portal-locked-${lang}`);
        await locked.close();
      });

      it(`item 5 (${lang}): 1,200 quarantined rows — paged, searched, sorted, bulk, no overflow`, async (t) => {
        const page = await open(lang, "acme-admin", "acme-pass-123");
        await page.click("[data-testid=nav-quarantine]");
        await page.waitForSelector("[data-testid=q-table]");
        expect(await page.$$eval("[data-testid=q-table] tbody tr", (r) => r.length)).toBe(50);
        expect(await page.textContent("[data-testid=page-info]")).toMatch(/^1–50 \/ 1,[12]\d\d$/);
        await noOverflow(page);
        await shot(t, page, `5-quarantine-${lang}`);
        await page.click("[data-testid=page-next]");
        await page.waitForSelector('[data-testid=page-info]:text-matches("^51–100")');
        // Symbols: the strongest three, the rest on demand.
        const row = page.locator("[data-testid=q-table] tbody tr").nth(1);
        expect(await row.locator(".symbols .tag").count()).toBe(3);
        await row.locator("[data-testid=symbols-more]").click();
        expect(await row.locator(".symbols .tag").count()).toBe(5);
        // Sort by score, highest first.
        await page.click("[data-testid=sort-score]");
        await page.waitForSelector('[data-testid=sort-score]:has-text("▼")');
        await page.waitForSelector('[data-testid=page-info]:text-matches("^1–50")');
        // Search by subject (Japanese too).
        await page.fill("[data-testid=q-search]", "請求書");
        await page.click("[data-testid=q-search-submit]");
        await page.waitForSelector("[data-testid=q-row-QE0777]");
        expect(await page.$$eval("[data-testid=q-table] tbody tr", (r) => r.length)).toBe(1);
        expect(await page.textContent("[data-testid=q-row-QE0777] [data-testid=q-reason]")).toContain(
          "spam score",
        );
        await shot(t, page, `5-quarantine-search-${lang}`);
        // Bulk: select two rows, delete them.
        await page.fill("[data-testid=q-search]", lang === "ja" ? "QE010" : "QE020");
        await page.click("[data-testid=q-search-submit]");
        await page.waitForSelector('[data-testid=page-info]:text-matches("/ 10$")');
        const checks = page.locator("[data-testid=q-check]");
        await checks.nth(0).check();
        await checks.nth(1).check();
        await page.waitForSelector("[data-testid=bulk-delete]");
        await shot(t, page, `5-quarantine-bulk-${lang}`);
        await page.click("[data-testid=bulk-delete]");
        await page.waitForSelector("[data-testid=q-message]");
        await page.waitForSelector('[data-testid=page-info]:text-matches("/ 8$")');
        await page.close();

        // The end user: virus copies offer no release, only the note why.
        const user = await open(lang, "ann@acme.test", "user-pass-123");
        await user.click("[data-testid=nav-quarantine]");
        await user.fill("[data-testid=q-search]", "QE0011");
        await user.click("[data-testid=q-search-submit]");
        await user.waitForSelector("[data-testid=q-row-QE0011]");
        expect(await user.$("[data-testid=q-actions-QE0011] [data-testid=q-release]")).toBeNull();
        await user.waitForSelector("[data-testid=q-actions-QE0011] [data-testid=q-admin-only]");
        await user.fill("[data-testid=q-search]", "QE0013");
        await user.click("[data-testid=q-search-submit]");
        await user.waitForSelector("[data-testid=q-actions-QE0013] [data-testid=q-release]");
        await noOverflow(user);
        await shot(t, user, `5-quarantine-user-${lang}`);
        await user.close();
      });
    }
  },
);
