// Typed errors of the milter front end. A ProtocolError means the MTA sent something we
// cannot follow (bad framing, unknown command, wrong order): log it and close the connection.

export class ProtocolError extends Error {
  /** Short machine-readable reason for the log line (e.g. "oversize", "out-of-order"). */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = "ProtocolError";
    this.reason = reason;
  }
}

/** A milter socket specification that cannot be used (a configuration mistake, not traffic). */
export class SocketSpecError extends Error {
  readonly spec: string;
  constructor(spec: string, problem: string) {
    super(`milter socket ${JSON.stringify(spec)}: ${problem}`);
    this.name = "SocketSpecError";
    this.spec = spec;
  }
}
