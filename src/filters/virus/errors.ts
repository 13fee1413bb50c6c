// Typed errors of the virus filter: a clamd instance that cannot answer (connect, timeout,
// dropped connection, scanner error) and a stream clamd refused as too large.
// Template errors are NotifyTemplateError (src/notify/template.ts), thrown at config load.

export type ClamdFailure = "connect" | "timeout" | "closed" | "protocol" | "scanner" | "aborted";

export class ClamdError extends Error {
  readonly kind: ClamdFailure;
  /** "host:port" or the socket path. */
  readonly endpoint: string;
  constructor(kind: ClamdFailure, endpoint: string, message: string, options?: ErrorOptions) {
    super(`clamd ${endpoint}: ${message}`, options);
    this.name = "ClamdError";
    this.kind = kind;
    this.endpoint = endpoint;
  }
}

/** Every configured clamd failed; `attempts` holds each instance's error, in the order tried. */
export class ClamdUnavailableError extends Error {
  readonly attempts: readonly ClamdError[];
  constructor(attempts: readonly ClamdError[]) {
    super(`no clamd instance answered: ${attempts.map((a) => a.message).join("; ") || "none configured"}`);
    this.name = "ClamdUnavailableError";
    this.attempts = attempts;
  }
}
