// Notice templates of a tenant, every kind it sends — virus (recipient, sender, admin), the
// quarantine digest (the spam notice) and its item line, hold notice and approval request, and
// each Sieve notify_template — as stored in the configuration in force (else built in), in
// English and Japanese, with each kind's variables and sample values; and a live preview that
// renders an edited text with those samples. Read-only: templates change through revisions.
import type { FastifyInstance } from "fastify";
import {
  compileTemplate,
  DEFAULT_TEMPLATES,
  NOTIFY_KINDS,
  NOTIFY_LANGUAGES,
  NOTIFY_VARIABLES,
  NotifyTemplateError,
  type RawTemplates,
} from "../../notify/index.ts";
import {
  APPROVAL_DEFAULTS,
  DIGEST_DEFAULTS,
  DIGEST_VARIABLES,
  digestItemTemplate,
  NOTICE_DEFAULTS,
  NOTICE_VARIABLES,
} from "../../quarantine/templates.ts";
import {
  DEFAULT_SIEVE_TEMPLATES,
  SIEVE_TEMPLATE_VARIABLES,
  type RawSieveTemplates,
} from "../../filters/sieve/templates.ts";
import type { TenantConfig } from "../../config/schema.ts";
import { assertTenant, requireRole, type Principal } from "../auth/principal.ts";
import { HttpProblem, notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { obj, str } from "./schema.ts";

type Lang = "en" | "ja";
type Text = { subject: string; body: string };
type Given = Partial<Text> | undefined;

export const SAMPLE_VARS: Record<string, string> = {
  virus: "Eicar-Test-Signature",
  subject: "Invoice 2024-001",
  sender: "sender@remote.example",
  recipient: "user@example.com",
  date: "2025-01-06T10:00:00Z",
  quarantine_id: "M8F3K2Q",
  tenant: "example",
  action: "quarantine",
};

const HOLD_SAMPLE: Record<string, string> = {
  sender: "user@example.com",
  recipients: "partner@remote.example",
  subject: "Invoice 2024-001",
  reason: "attachment to an external recipient",
  release_at: "2025-01-06T10:05:00Z",
  hold_id: "M8F3K2QH1",
  send_now_url: "https://console.example.com/link?t=SAMPLE-SEND",
  cancel_url: "https://console.example.com/link?t=SAMPLE-CANCEL",
  approver: "chief@example.com",
};

const SIEVE_SAMPLE: Record<string, string> = {
  subject: "Invoice 2024-001",
  sender: "user@example.com",
  recipient: "partner@remote.example",
  date: "Mon, 6 Jan 2025 10:00:00 +0000",
  tenant: "example",
  reason: "external recipient",
  minutes: "5",
  ref: "M8F3K2QAB7T1XZ9P",
};

const ITEM_SAMPLE = (lang: Lang) =>
  [1, 2]
    .map((n) =>
      digestItemTemplate(lang).render({
        date: `2025-01-06T0${n}:00:00Z`,
        sender: n === 1 ? "offers@remote.example" : "news@remote.example",
        subject: n === 1 ? "You have won" : "Weekly news",
        release_url: `https://console.example.com/q?t=SAMPLE-RELEASE-${n}`,
        view_url: `https://console.example.com/q?t=SAMPLE-VIEW-${n}`,
      }),
    )
    .join("\n");

/** One kind of notice: where it is configured, its variables, samples and texts per language. */
export interface TemplateKind {
  kind: string;
  group: "virus" | "digest" | "hold" | "sieve";
  /** The configuration path of its texts (null: built in only). */
  where: string | null;
  variables: readonly string[];
  sample(lang: Lang): Record<string, string>;
  text(lang: Lang): { subject: string; body: string; configured: boolean };
}

function pair(defaults: Text, given: Given) {
  return {
    subject: given?.subject ?? defaults.subject,
    body: given?.body ?? defaults.body,
    configured: given !== undefined,
  };
}

/** Every notice kind of a tenant, with the texts the configuration in force gives it. */
export function templateKinds(ctx: ApiContext, t: TenantConfig, sieve: RawSieveTemplates): TemplateKind[] {
  type Opts = { notify?: { templates?: RawTemplates } } | undefined;
  const own = t.policy?.filters?.virus?.options as Opts;
  const global = ctx.runtime.config.policy.filters?.virus?.options as Opts;
  const virus = own?.notify?.templates ?? global?.notify?.templates;
  const base = { ...SAMPLE_VARS, tenant: t.id };
  const kinds: TemplateKind[] = NOTIFY_KINDS.map((k) => ({
    kind: k,
    group: "virus",
    where: `policy.filters.virus.options.notify.templates.${k}`,
    variables: NOTIFY_VARIABLES,
    sample: () => base,
    text: (lang) => pair(DEFAULT_TEMPLATES[k][lang], virus?.[k]?.[lang]),
  }));
  const digest = t.quarantine?.digest?.templates;
  kinds.push({
    kind: "digest",
    group: "digest",
    where: `tenants.${t.id}.quarantine.digest.templates`,
    variables: DIGEST_VARIABLES,
    sample: (lang) => ({
      recipient: `user@${t.domains[0]}`,
      tenant: t.id,
      count: "2",
      items: ITEM_SAMPLE(lang),
      date: "2025-01-06T10:00:00Z",
    }),
    text: (lang) => pair(DIGEST_DEFAULTS[lang], digest?.[lang]),
  });
  const holdSample = () => ({ ...HOLD_SAMPLE, sender: `user@${t.domains[0]}` });
  kinds.push({
    kind: "hold",
    group: "hold",
    where: `tenants.${t.id}.hold.notice_templates`,
    variables: NOTICE_VARIABLES,
    sample: holdSample,
    text: (lang) => pair(NOTICE_DEFAULTS[lang], t.hold?.notice_templates?.[lang]),
  });
  kinds.push({
    kind: "hold-approval",
    group: "hold",
    where: null,
    variables: NOTICE_VARIABLES,
    sample: holdSample,
    text: (lang) => ({ ...APPROVAL_DEFAULTS[lang], configured: false }),
  });
  for (const [name, texts] of Object.entries({ ...DEFAULT_SIEVE_TEMPLATES, ...sieve })) {
    const configured = name in sieve;
    kinds.push({
      kind: `sieve:${name}`,
      group: "sieve",
      where: `policy.filters.sieve.options.templates.${name}`,
      variables: SIEVE_TEMPLATE_VARIABLES,
      sample: () => ({ ...SIEVE_SAMPLE, sender: `user@${t.domains[0]}`, tenant: t.id }),
      // A template without a Japanese text is sent in English (filters/sieve/templates.ts).
      text: (lang) => ({ ...(texts[lang] ?? texts.en), configured }),
    });
  }
  return kinds;
}

function render(k: TemplateKind, lang: Lang, text: Text, extra: Record<string, string> = {}): Text {
  const vars = { ...k.sample(lang), ...extra };
  const subject = compileTemplate(text.subject, k.variables, "subject");
  const body = compileTemplate(text.body, k.variables, "body");
  return { subject: subject.render(vars).replace(/[\r\n]+/g, " "), body: body.render(vars) };
}

const tenantParams = obj({ tenant: str({ maxLength: 64 }) }, ["tenant"]);

export function templateRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const tenantOf = (p: Principal, id: string): TenantConfig => {
    const t = ctx.runtime.config.tenants.find((x) => x.id === id);
    if (!t) throw notFound("no such tenant");
    assertTenant(p, t.id, "no such tenant");
    return t;
  };
  const kindsOf = async (t: TenantConfig) => {
    const policy = await ctx.runtime.resolver.forRecipient(`postmaster@${t.domains[0]}`).catch(() => null);
    const sieve = (policy?.filters.sieve?.options as { templates?: RawSieveTemplates } | undefined)
      ?.templates;
    return templateKinds(ctx, t, sieve ?? {});
  };

  app.get<{ Params: { tenant: string } }>(
    "/api/tenants/:tenant/templates",
    {
      schema: {
        summary:
          "Every notice template of the tenant (virus, digest, hold, Sieve) in en and ja, as configured or built in",
        tags: ["templates"],
        params: tenantParams,
      },
    },
    async (req) => {
      const t = tenantOf(requireRole(req, "operator", "tenant_admin"), req.params.tenant);
      const kinds = await kindsOf(t);
      const templates: Record<
        string,
        Record<string, { subject: string; body: string; configured: boolean }>
      > = {};
      for (const k of kinds)
        templates[k.kind] = Object.fromEntries(NOTIFY_LANGUAGES.map((l) => [l, k.text(l)]));
      return {
        tenant: t.id,
        // The virus kinds' variables and samples (the first kinds); every kind has its own below.
        variables: NOTIFY_VARIABLES,
        sample: { ...SAMPLE_VARS, tenant: t.id },
        kinds: kinds.map((k) => ({
          kind: k.kind,
          group: k.group,
          where: k.where,
          variables: k.variables,
          sample: Object.fromEntries(NOTIFY_LANGUAGES.map((l) => [l, k.sample(l)])),
          // The stored texts rendered with the samples: what a reader would get today.
          rendered: Object.fromEntries(NOTIFY_LANGUAGES.map((l) => [l, render(k, l, k.text(l))])),
        })),
        templates,
      };
    },
  );

  app.post<{
    Params: { tenant: string };
    Body: { kind?: string; lang?: Lang; subject: string; body: string; vars?: Record<string, string> };
  }>(
    "/api/tenants/:tenant/templates/preview",
    {
      schema: {
        summary: "Render a template of one kind with its sample values (422 with the position of a mistake)",
        tags: ["templates"],
        params: tenantParams,
        body: obj(
          {
            kind: str({ maxLength: 200 }),
            lang: str({ enum: ["en", "ja"] }),
            subject: str({ maxLength: 900 }),
            body: str({ maxLength: 20_000 }),
            vars: { type: "object", additionalProperties: str({ maxLength: 1000 }) },
          },
          ["subject", "body"],
        ),
      },
    },
    async (req) => {
      const t = tenantOf(requireRole(req, "operator", "tenant_admin"), req.params.tenant);
      const kinds = await kindsOf(t);
      const k = kinds.find((x) => x.kind === (req.body.kind ?? "recipient"));
      if (!k) throw notFound(`no template kind ${req.body.kind}`);
      try {
        return render(k, req.body.lang ?? "en", req.body, req.body.vars);
      } catch (err) {
        if (err instanceof NotifyTemplateError)
          throw new HttpProblem(422, "template error", err.message, { where: err.where });
        throw err;
      }
    },
  );
}
