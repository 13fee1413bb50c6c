// The plain-data result of running a script: actions, implicit keep and header edits.
// Not execution: the pipeline maps these onto its own actions; nothing here touches a message.

export type NotifyTarget = "sender" | "recipient" | "admin";

export type SieveAction =
  /** flags: RFC 5232 IMAP flags, present only when the script requires "imap4flags". */
  | { type: "keep"; flags?: string[] }
  | { type: "discard" }
  | { type: "fileinto"; folder: string; copy: boolean; flags?: string[] }
  | { type: "redirect"; address: string; copy: boolean }
  /** RFC 6134 3.3 redirect :list — send to every member of the named external list. */
  | { type: "redirect_list"; list: string; copy: boolean }
  | { type: "reject"; reason: string }
  | { type: "ereject"; reason: string }
  | { type: "hold"; minutes: number; reason: string }
  | { type: "quarantine"; reason: string }
  | { type: "notify"; to: NotifyTarget; template: string }
  /** RFC 5435 notify with the mailto method (RFC 5436); the caller sends it (or refuses it). */
  | EnotifyAction;

export interface EnotifyAction {
  type: "enotify";
  /** The method URI as given (after variable expansion). */
  method: string;
  /** Recipients from the mailto URI, lower-case domain. */
  recipients: string[];
  /** :from, when given (the sender the author asked for; the caller decides how to use it). */
  from: string | null;
  importance: "1" | "2" | "3";
  options: string[];
  message: string | null;
  /** Header fields from the URI other than to/cc/bcc/body, in order. */
  headers: { name: string; value: string }[];
  /** The URI's body= part, or null. */
  body: string | null;
  /** Recipients left out because the caller's allow-list refused them (computed names only). */
  refused?: string[];
}

/**
 * Header edits in the order they must be applied. A delete names the occurrence (1-based, counted from
 * the top among fields of that name) in the header as it stands after the earlier edits.
 */
export type HeaderEdit =
  | { op: "add"; name: string; value: string; last: boolean }
  | { op: "delete"; name: string; occurrence: number };

export interface SieveResult {
  /** Explicit actions, de-duplicated as RFC 5228 4 asks (e.g. two fileinto to one folder = one). */
  actions: SieveAction[];
  /** True when no action cancelled the implicit keep (RFC 5228 2.10.2): deliver to the default place. */
  implicitKeep: boolean;
  /** RFC 5232: flags for the implicit keep; present only when the script requires "imap4flags". */
  implicitKeepFlags?: string[];
  headerEdits: HeaderEdit[];
  /** Steps the run used, for metrics and limit tuning. */
  steps: number;
}
