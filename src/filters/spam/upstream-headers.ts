// Which header fields the classifier must never learn from: those written by other filters
// (spam and virus scanners, authentication checkers, greylisters) and by the receiving mailbox
// (mail clients, POP/IMAP servers, final delivery). They describe where mail was collected, not
// who sent it, so a model trained on them learns one site's labels and does not travel.
// Also strips the subject tags that other filters prepend ("[SPAM]", "***SPAM***").

/** Substrings of a lower-cased field name that mark another filter's verdict. */
const FILTER_WORDS =
  /spam|virus|scanned|scanner|amavis|bogosity|dspam|crm114|policyd|greylist|barracuda|ironport|proofpoint|mimecast|forefront|brightmail|bitdefender|sophos|symantec|trendmicro|kaspersky|clamav|antivirus|antiabuse-score|sluice|rspamd|quarantine|phish|filtered|checker-version/;

/** Field names (or prefixes ending in "-") written by a filter or by the receiving side. */
const UPSTREAM_NAMES = new Set([
  // Authentication verdicts: we compute our own (auth filter); foreign ones are claims.
  "authentication-results",
  "x-original-authentication-results",
  "received-spf",
  "x-spf",
  "x-dkim",
  "x-google-dkim-signature",
  "x-sender-id",
  "x-auth-result",
  // Filter stamps renamed by mailing lists (lists.debian.org: X-Spam-* became X*).
  "xstatus",
  "xlevel",
  "xflag",
  "x-rc-spam",
  "x-rc-virus",
  "x-cm-score",
  "x-auditid",
  "x-cmae-score",
  "x-cmae-analysis",
  "x-pm-spam",
  "x-tm-as-result",
  "x-tmase-version",
  "x-ms-exchange-organization-scl",
  "x-microsoft-antispam",
  "x-yahoo-newman-property",
  "x-yahoo-newman-id",
  "x-yahoofilteredbulk",
  "x-mailscanner",
  "x-mail-scanner",
  "x-ham-report",
  // The receiving mailbox: delivery, mail clients, POP/IMAP servers, archives.
  "delivered-to",
  "x-original-to",
  "envelope-to",
  "x-envelope-to",
  "x-rcpt-to",
  "x-apparently-to",
  "x-delivered-to",
  "x-uidl",
  "x-account-key",
  "status",
  "x-status",
  "x-keywords",
  "x-label",
  "x-labels",
  "x-gmail-labels",
  "x-gm-thrid",
  "x-originalarrivaltime",
  "x-received-date",
  "x-evolution-source",
  "x-evolution",
  "content-length",
  "lines",
  "x-imap",
  "x-imapbase",
  "x-idx",
]);

const UPSTREAM_PREFIXES = [
  "arc-",
  "x-mozilla-",
  "x-asg-",
  "x-ms-exchange-",
  "x-forefront-",
  "x-microsoft-",
  "x-evolution-",
  "x-kmail-",
  "x-spam",
  "x-virus",
  "x-amavis",
  "x-barracuda",
  "x-sluice",
  "x-rspamd",
];

/** True for a field the classifier must ignore (any letter case). */
export function isUpstreamHeader(name: string): boolean {
  const n = name.toLowerCase();
  if (UPSTREAM_NAMES.has(n)) return true;
  for (const p of UPSTREAM_PREFIXES) if (n.startsWith(p)) return true;
  return FILTER_WORDS.test(n);
}

/** "[SPAM] ", "***SPAM*** ", "{Spam?} ", "[spam] [SPAM] " … at the start of a Subject. */
const SUBJECT_TAG =
  /^\s*(?:[[({*]{1,3}\s*(?:possible |suspected |probable |likely )?(?:spam|junk|bulk|suspicious)\s*\??\s*[\])}*]{1,3}:?\s*|(?:spam|junk)\s*:\s+)/i;

/** The Subject without tags other filters (or ours, on a previous pass) prepended. */
export function stripSubjectTags(subject: string): string {
  let s = subject;
  for (let i = 0; i < 4; i++) {
    const m = SUBJECT_TAG.exec(s);
    if (!m) break;
    s = s.slice(m[0].length);
  }
  return s === subject ? subject : s.trimStart();
}
