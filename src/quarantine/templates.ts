// Built-in texts of the quarantine digest and the hold notice (en, ja) and their compilation
// with a tenant's overrides; a typo in a tenant template fails where it is used, with its path.
// Not for MIME rendering (notify/render.ts).
import { compileTemplate, type CompiledTemplate } from "../notify/template.ts";

export const DIGEST_VARIABLES = ["recipient", "tenant", "count", "items", "date"] as const;
export const NOTICE_VARIABLES = [
  "sender",
  "recipients",
  "subject",
  "reason",
  "release_at",
  "hold_id",
  "send_now_url",
  "cancel_url",
  "approver",
] as const;

type Lang = "en" | "ja";
type Text = { subject: string; body: string };
export type Pair = { subject: CompiledTemplate; body: CompiledTemplate };

export const DIGEST_DEFAULTS: Record<Lang, Text> = {
  en: {
    subject: "Quarantine digest: {count} new message(s) held for you",
    body:
      "These messages addressed to {recipient} were quarantined ({date}).\n" +
      "Each link works once and expires; release only what you expected.\n\n{items}\n",
  },
  ja: {
    subject: "隔離メールのお知らせ: 新着 {count} 件",
    body:
      "{recipient} 宛てのメールのうち、次のメールを隔離しました（{date}）。\n" +
      "リンクは一度だけ有効で、期限があります。心当たりのあるメールだけを取り出してください。\n\n{items}\n",
  },
};

export const DIGEST_ITEM: Record<Lang, string> = {
  en: "- {date}  From: {sender}\n  Subject: {subject}\n  Release: {release_url}\n  View: {view_url}\n",
  ja: "- {date}  差出人: {sender}\n  件名: {subject}\n  取り出す: {release_url}\n  表示: {view_url}\n",
};
const ITEM_VARIABLES = ["date", "sender", "subject", "release_url", "view_url"] as const;

export const NOTICE_DEFAULTS: Record<Lang, Text> = {
  en: {
    subject: "Your message is on hold: {subject}",
    body:
      "Your message to {recipients} is held ({reason}).\n" +
      "It will be sent at {release_at} unless you cancel it.\n\n" +
      "Send now: {send_now_url}\nCancel: {cancel_url}\n\nHold id: {hold_id}\n",
  },
  ja: {
    subject: "送信を保留しています: {subject}",
    body:
      "{recipients} 宛てのメールの送信を保留しています（{reason}）。\n" +
      "取り消さない場合、{release_at} に送信します。\n\n" +
      "今すぐ送信: {send_now_url}\n取り消し: {cancel_url}\n\n保留ID: {hold_id}\n",
  },
};

/** To each approver in approval mode (no links: approving needs a login or the CLI). */
export const APPROVAL_DEFAULTS: Record<Lang, Text> = {
  en: {
    subject: "Approval needed: {subject}",
    body:
      "{sender} wants to send a message to {recipients} ({reason}).\n" +
      "It waits for your approval until {release_at}; after that it is not sent.\n\n" +
      "Approve it in the console, or: sluice hold release --approve --actor <you> {hold_id}\n",
  },
  ja: {
    subject: "送信の承認依頼: {subject}",
    body:
      "{sender} さんが {recipients} 宛てにメールを送信しようとしています（{reason}）。\n" +
      "{release_at} まで承認を待ちます。承認されない場合は送信されません。\n\n" +
      "管理画面で承認するか、次のコマンドを実行してください: sluice hold release --approve --actor <あなた> {hold_id}\n",
  },
};

export function compilePair(
  defaults: Text,
  override: Partial<Text> | undefined,
  allowed: readonly string[],
  where: string,
): Pair {
  return {
    subject: compileTemplate(override?.subject ?? defaults.subject, allowed, `${where}.subject`),
    body: compileTemplate(override?.body ?? defaults.body, allowed, `${where}.body`),
  };
}

export function digestItemTemplate(lang: Lang): CompiledTemplate {
  return compileTemplate(DIGEST_ITEM[lang], ITEM_VARIABLES, `digest.item.${lang}`);
}
