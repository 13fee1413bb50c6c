// The catalogue of SMTP replies Sluice gives (code, enhanced code, text, when), one name each,
// shared by the proxy, the milter (as SMFIR_REPLYCODE) and `sluice scan`. The README's reply
// table is generated from it (scripts/reply-table.ts; a test keeps the two in step). An error
// that reaches a client is a ReplyError carrying one of these.
import type { SmtpReply } from "./types.ts";

export interface ReplySpec extends SmtpReply {
  /** When Sluice answers it (documentation; the README table's last column). */
  when: string;
}

const spec = (code: number, enhanced: string, text: string, when: string): ReplySpec => ({
  code,
  enhanced,
  text,
  when,
});

export const REPLIES = {
  // ---- the session ----
  greeting: spec(220, "2.0.0", "ESMTP Sluice", "connection accepted (banner)"),
  ok: spec(250, "2.0.0", "Ok", "NOOP, RSET"),
  mailOk: spec(250, "2.1.0", "Ok", "MAIL FROM accepted"),
  rcptOk: spec(250, "2.1.5", "Ok", "RCPT TO accepted"),
  queued: spec(250, "2.0.0", "Ok: queued as {ref}", "every copy delivered to the next hop or stored"),
  vrfy: spec(252, "2.5.0", "Cannot VRFY user, but will accept message", "VRFY (never confirms users)"),
  help: spec(214, "2.0.0", "See RFC 5321", "HELP"),
  bye: spec(221, "2.0.0", "Bye", "QUIT"),
  startData: spec(354, "", "End data with <CR><LF>.<CR><LF>", "DATA accepted, send the message"),
  startTls: spec(220, "2.0.0", "Ready to start TLS", "STARTTLS accepted"),
  authOk: spec(235, "2.7.0", "Authentication successful", "AUTH succeeded"),

  // ---- limits and timeouts (421 closes the connection) ----
  idleTimeout: spec(
    421,
    "4.4.2",
    "Idle timeout, closing connection",
    "no command within smtp.limits.idle_timeout_s",
  ),
  commandTimeout: spec(
    421,
    "4.4.2",
    "Command line timeout, closing connection",
    "a command line not finished within smtp.limits.command_timeout_s (slowloris)",
  ),
  dataRateTooLow: spec(
    421,
    "4.4.2",
    "Data rate too low, closing connection",
    "DATA slower than smtp.limits.min_data_rate bytes/s after its initial credit",
  ),
  sessionTimeout: spec(
    421,
    "4.4.2",
    "Session time limit exceeded, closing connection",
    "a connection older than smtp.limits.session_timeout_s",
  ),
  badProxyHeader: spec(
    421,
    "4.7.0",
    "Bad PROXY protocol header",
    "proxy_protocol listener, header missing or malformed",
  ),
  internalError: spec(
    421,
    "4.3.0",
    "Internal error, closing connection",
    "an unexpected fault in the session",
  ),
  tooManyErrors: spec(
    421,
    "4.7.0",
    "Too many errors, closing connection",
    "smtp.limits.max_errors bad commands",
  ),
  tooManyCommands: spec(
    421,
    "4.7.0",
    "Too many commands, closing connection",
    "smtp.limits.max_commands commands on one connection",
  ),
  tooManyConnections: spec(
    421,
    "4.7.0",
    "Too many connections from your address, try again later",
    "smtp.limits.max_connections_per_ip reached",
  ),
  tooManyAuthFailures: spec(
    421,
    "4.7.0",
    "Too many failed authentications, try again later",
    "AUTH failures past the throttle for this address",
  ),
  shuttingDown: spec(421, "4.3.2", "Service shutting down, closing connection", "the node is stopping"),
  pregreet: spec(
    521,
    "5.5.1",
    "Protocol error: talked before the greeting",
    "an inbound client sent before the greeting (smtp.listeners.inbound.pregreet, as postscreen); the connection is closed",
  ),

  // ---- syntax and sequence ----
  bareLineEndCommand: spec(
    500,
    "5.5.2",
    "Bare <CR> or <LF> in command; closing connection",
    "a command ended by a lone CR or LF (SMTP smuggling)",
  ),
  lineTooLong: spec(500, "5.5.2", "Line too long", "a command line over smtp.limits.max_line_length"),
  unknownCommand: spec(500, "5.5.1", "Command not recognized", "an unknown verb"),
  bdatUnsupported: spec(502, "5.5.1", "BDAT not supported", "BDAT/CHUNKING (not offered)"),
  syntax: spec(
    501,
    "5.5.4",
    "Syntax error in parameters",
    "a command's arguments do not parse (text names the form)",
  ),
  badSize: spec(501, "5.5.4", "Bad SIZE parameter", "MAIL FROM with a malformed SIZE="),
  badBody: spec(501, "5.5.4", "Unsupported BODY parameter", "MAIL FROM with BODY other than 7BIT/8BITMIME"),
  badSequence: spec(503, "5.5.1", "Bad sequence of commands", "a command out of order (text says which)"),
  noValidRecipients: spec(554, "5.5.1", "No valid recipients", "DATA with no accepted RCPT"),
  nonAsciiAddress: spec(553, "5.6.7", "Non-ASCII address needs SMTPUTF8", "8-bit address without SMTPUTF8"),

  // ---- TLS and AUTH ----
  tlsUnavailable: spec(
    454,
    "4.7.0",
    "TLS not available",
    "STARTTLS without a certificate, or TLS already on",
  ),
  authUnavailable: spec(502, "5.5.1", "AUTH not available on this port", "AUTH on the inbound (MX) listener"),
  encryptionRequired: spec(
    538,
    "5.7.11",
    "Encryption required for requested authentication mechanism",
    "AUTH before STARTTLS (RFC 4954)",
  ),
  authCancelled: spec(501, "5.0.0", "Authentication cancelled", "the client sent * during AUTH"),
  authMechanism: spec(
    504,
    "5.5.4",
    "Unrecognized authentication mechanism",
    "AUTH with a mechanism other than PLAIN/LOGIN",
  ),
  authDecode: spec(501, "5.5.2", "Cannot decode response", "AUTH response not valid base64"),
  authTempFail: spec(454, "4.7.0", "Temporary authentication failure", "the directory could not answer AUTH"),
  authFailed: spec(535, "5.7.8", "Authentication credentials invalid", "wrong user name or password"),
  authRequired: spec(530, "5.7.0", "Authentication required", "MAIL on a submission port before AUTH"),
  senderNotOwned: spec(
    553,
    "5.7.1",
    "Sender address rejected: not owned by user",
    "MAIL FROM an address the authenticated user may not send as",
  ),

  // ---- recipients ----
  relayDenied: spec(
    550,
    "5.7.1",
    "Relay access denied",
    "inbound RCPT to a domain of no tenant (never an open relay)",
  ),
  userUnknown: spec(
    550,
    "5.1.1",
    "Recipient address rejected: user unknown",
    "RCPT to an unknown local user (verify_recipients)",
  ),
  directoryDown: spec(
    451,
    "4.4.3",
    "Directory temporarily unavailable, try again later",
    "LDAP (or the built-in directory) did not answer (on_unavailable: tempfail)",
  ),
  tooManyRecipients: spec(452, "4.5.3", "Too many recipients", "RCPT past smtp.limits.max_recipients"),
  splitPolicy: spec(
    452,
    "4.5.3",
    "Recipient policy differs, send separately",
    "split_mixed_policies: defer and this recipient's filters differ from the first's",
  ),
  clientListed: spec(
    554,
    "5.7.1",
    "Service unavailable; client host [{ip}] blocked using {zone}",
    "a dnsbl zone with action: reject lists the client (its TXT reason appended when asked for)",
  ),
  greylisted: spec(
    451,
    "4.7.1",
    "Greylisted, please try again in {n} seconds",
    "a new (client network, sender, recipient) triplet, or one retried before greylist.delay_s",
  ),
  rateLimited: spec(
    451,
    "4.7.1",
    "Sending limit reached for {user}: {n} messages per hour, try again later",
    "over a ratelimit limit (text names which: user, client network, sender domain, recipient)",
  ),
  senderBlocked: spec(
    550,
    "5.7.1",
    "Sender is blocked by the recipient",
    "the sender is on the recipient's blacklist",
  ),

  // ---- the message ----
  bareLineEndData: spec(
    550,
    "5.5.2",
    "Bare <CR> or <LF> in message data not allowed",
    "DATA containing a lone CR or LF (SMTP smuggling)",
  ),
  messageTooLarge: spec(
    552,
    "5.3.4",
    "Message size exceeds fixed limit",
    "over limits.message_bytes (or SIZE= says so)",
  ),
  headerTooLarge: spec(552, "5.6.0", "Header section exceeds the limit", "over limits.header_bytes"),
  messageLineTooLong: spec(
    554,
    "5.6.0",
    "Message line too long",
    "a header or body line over limits.line_bytes (read to the end, then refused)",
  ),
  nulByte: spec(554, "5.6.0", "NUL character in message data", "a NUL byte with limits.nul_bytes: reject"),
  rejected: spec(
    550,
    "5.7.1",
    "Message rejected by policy",
    "a reject verdict (score, Sieve, filter) without its own text",
  ),
  filterRejected: spec(550, "5.7.1", "Message rejected", "a failing filter whose on_error is reject"),
  spamRejected: spec(550, "5.7.1", "Message rejected as spam", "Rspamd's reject action"),
  uriListed: spec(
    550,
    "5.7.1",
    "Message rejected: it links to {domain}, listed by {zone}",
    "a uribl zone with action: reject lists a domain linked in the body",
  ),
  virusRejected: spec(
    554,
    "5.7.1",
    "Message contains a virus",
    "a virus found with action reject (tenant text)",
  ),
  deferred: spec(
    451,
    "4.7.1",
    "Message temporarily deferred, try again later",
    "a tempfail verdict without its own text",
  ),
  filterFailed: spec(
    451,
    "4.7.1",
    "Temporary filtering failure, try again later",
    "a filter failed or timed out (on_error: tempfail)",
  ),
  spamEngineDeferred: spec(451, "4.7.1", "Try again later", "Rspamd's soft reject"),
  scannerUnavailable: spec(451, "4.7.1", "Virus scanner unavailable, try again later", "no clamd answered"),
  tooLargeToScan: spec(
    452,
    "4.3.4",
    "Message too large to scan",
    "over clamd's limit with on_oversize: tempfail",
  ),
  storeDown: spec(
    451,
    "4.3.0",
    "Temporary storage failure, try again later",
    "a quarantine/hold copy could not be written (nothing was delivered)",
  ),
  nextHopDown: spec(
    451,
    "4.4.1",
    "Next hop not reachable, try again later",
    "the next hop refused the connection or timed out",
  ),
} as const satisfies Record<string, ReplySpec>;

export type ReplyName = keyof typeof REPLIES;

/** A catalogue reply, its text optionally replaced (details) and the reference id appended. */
export function reply(name: ReplyName, opts: { text?: string; ref?: string } = {}): SmtpReply {
  const r = REPLIES[name];
  return { code: r.code, enhanced: r.enhanced, text: withRef(opts.text ?? r.text, opts.ref) };
}

/** The text with `[ref …]` appended once (replies that carry the message's reference id). */
export function withRef(text: string, ref: string | undefined): string {
  if (!ref) return text;
  if (text.includes("{ref}")) return text.replace("{ref}", ref);
  return text.includes(ref) ? text : `${text} [ref ${ref}]`;
}

/**
 * An error whose SMTP reply is known: what a front end answers when it reaches it (proxy reply,
 * milter SMFIR_REPLYCODE, `sluice scan` verdict). `message` is for logs, `reply` for the client.
 */
export class ReplyError extends Error {
  readonly reply: SmtpReply;
  constructor(reply: SmtpReply | ReplyName, message?: string, options?: { cause?: unknown }) {
    const r = typeof reply === "string" ? REPLIES[reply] : reply;
    super(message ?? r.text, options);
    this.name = "ReplyError";
    this.reply = { code: r.code, enhanced: r.enhanced, text: r.text };
  }

  /** The reply's codes, as front ends read them. */
  get code(): number {
    return this.reply.code;
  }
  get enhanced(): string {
    return this.reply.enhanced;
  }
}
