// Notifications (per tenant, per language): templates compiled at configuration load,
// rendered to MIME, handed to a NotificationSender. Who gets notified is the caller's choice.
export { compileTemplate, NotifyTemplateError, type CompiledTemplate } from "./template.ts";
export {
  compileTemplates,
  DEFAULT_TEMPLATES,
  NOTIFY_KINDS,
  NOTIFY_LANGUAGES,
  NOTIFY_VARIABLES,
  type NotifyKind,
  type NotifyLanguage,
  type RawTemplates,
  type TemplateSet,
} from "./templates.ts";
export { renderNotification, headerSafe, type RenderInput } from "./render.ts";
export type { NotificationSender } from "./sender.ts";
export { noticeFrom, type NoticeTenant } from "./from.ts";
