// Template preview of every notice kind (issue 23, item 3): virus, digest (the spam notice),
// hold notice and approval, and each Sieve notify_template, as stored in the configuration (a
// tenant's own texts win over the built-in ones), rendered with sample data in en and ja.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ApiClient, startWebNode, type WebNode } from "../helpers/web.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";

const config = (dir: string) => `
node: { name: tpl }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
policy:
  filters:
    sieve:
      options:
        templates:
          wrong-recipient:
            en: { subject: "Check the recipient of {subject}", body: "{sender} wrote to {recipient} (ref {ref})." }
            ja: { subject: "宛先を確認してください: {subject}", body: "{sender} さんから {recipient} 宛て（参照番号 {ref}）" }
tenants:
  - id: acme
    domains: [acme.test]
    language: ja
    hold:
      notice_templates:
        ja: { subject: "【保留】{subject}", body: "{recipients} 宛てのメールを {release_at} まで保留します。取り消し: {cancel_url}" }
    quarantine:
      digest: { enabled: true, link_base: "https://console.acme.test/q" }
`;

describe("notice template preview", () => {
  let node: WebNode;
  let admin: ApiClient;

  beforeAll(async () => {
    node = await startWebNode(config);
    await createAccount(node.runtime.store!, node.runtime.config, {
      login: "acme-admin",
      role: "tenant_admin",
      tenant: "acme",
      password: "acme-pass-1234",
    });
    admin = new ApiClient(node.base);
    await admin.login("acme-admin", "acme-pass-1234");
  });
  afterAll(async () => node?.close());

  it("lists every kind with its stored texts rendered in both languages", async () => {
    const r = await admin.get("/api/tenants/acme/templates");
    expect(r.status).toBe(200);
    type K = { kind: string; group: string; rendered: Record<string, { subject: string; body: string }> };
    const kinds = r.body.kinds as K[];
    expect(kinds.map((k) => k.kind)).toEqual([
      "recipient",
      "sender",
      "admin",
      "digest",
      "hold",
      "hold-approval",
      "sieve:misdelivery-hold",
      "sieve:wrong-recipient",
    ]);
    const by = (k: string) => kinds.find((x) => x.kind === k)!;
    expect(by("hold").rendered.ja!.subject).toBe("【保留】Invoice 2024-001");
    expect(by("hold").rendered.ja!.body).toContain("https://console.example.com/link?t=SAMPLE-CANCEL");
    expect(by("hold").rendered.en!.subject).toBe("Your message is on hold: Invoice 2024-001");
    expect(by("digest").rendered.ja!.subject).toBe("隔離メールのお知らせ: 新着 2 件");
    expect(by("digest").rendered.ja!.body).toContain(
      "取り出す: https://console.example.com/q?t=SAMPLE-RELEASE-1",
    );
    expect(by("digest").rendered.en!.body).toContain(
      "Release: https://console.example.com/q?t=SAMPLE-RELEASE-1",
    );
    expect(by("sieve:wrong-recipient").rendered.ja!.subject).toBe("宛先を確認してください: Invoice 2024-001");
    expect(by("sieve:misdelivery-hold").rendered.ja!.subject).toBe(
      "送信メールを5分間保留しています: Invoice 2024-001",
    );
    expect(by("recipient").rendered.ja!.subject).toBe("ウイルスを検出しました: Invoice 2024-001");
    for (const k of kinds) {
      for (const l of ["en", "ja"]) {
        expect(k.rendered[l]!.subject).not.toMatch(/\{[a-z_]+\}/);
        expect(k.rendered[l]!.body).not.toMatch(/\{[a-z_]+\}/);
      }
    }
    const t = r.body.templates as Record<string, Record<string, { configured: boolean }>>;
    expect(t.hold!.ja!.configured).toBe(true);
    expect(t.hold!.en!.configured).toBe(false);
  });

  it("previews an edited text with the kind's own variables and samples", async () => {
    const ok = await admin.post("/api/tenants/acme/templates/preview", {
      kind: "hold",
      lang: "ja",
      subject: "保留 {hold_id}",
      body: "{send_now_url}",
    });
    expect(ok.body).toEqual({
      subject: "保留 M8F3K2QH1",
      body: "https://console.example.com/link?t=SAMPLE-SEND",
    });
    // {virus} is not a hold notice variable: refused with its position and the known ones.
    const wrong = await admin.post("/api/tenants/acme/templates/preview", {
      kind: "hold",
      subject: "{virus}",
      body: "",
    });
    expect(wrong.status).toBe(422);
    expect(String(wrong.body.detail)).toContain("unknown variable {virus}");
    expect(
      (await admin.post("/api/tenants/acme/templates/preview", { kind: "nope", subject: "", body: "" }))
        .status,
    ).toBe(404);
  });
});
