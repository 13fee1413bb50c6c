// OPTNEG: agree on version, modification actions, protocol steps and macro lists with the MTA,
// following libmilter's rules. Pure function of the MTA's offer and what Sluice wants.
import {
  Act,
  MAX_DATA_1M,
  MAX_DATA_256K,
  MAX_DATA_DEFAULT,
  MacroStage,
  Proto,
  PROTO_INTERNAL,
} from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { ANSWER_ALL, type EnvelopeStage, type StageNeeds } from "../pipeline/stage-needs.ts";

export interface Offer {
  version: number;
  actions: number;
  protocol: number;
}

export interface Wanted {
  /** Actions we cannot work without: the connection is refused if the MTA does not offer them. */
  requiredActions: number;
  /** Actions used when offered (e.g. QUARANTINE). */
  optionalActions: number;
  /** Protocol bits (NO*, NR_*, capabilities) used when offered, quietly dropped otherwise. */
  optionalProtocol: number;
  /** Accept packets above 64 KiB if the MTA offers SMFIP_MDS_256K / SMFIP_MDS_1M. */
  largePackets: boolean;
  /** SMFIM_* stage → macro names to ask for (SETSYMLIST). */
  macros: ReadonlyMap<number, string>;
}

export interface Negotiated {
  version: number;
  actions: number;
  protocol: number;
  maxData: number;
  /** Macro lists sent back; empty if the MTA did not offer SETSYMLIST. */
  macros: ReadonlyMap<number, string>;
}

export const MILTER_VERSION = 6;

/**
 * The macros Sluice reads, per stage (SMFIM_*), and nothing else: connect info and the listener
 * name (ingress), TLS, the AUTH login, the queue id for the log. Postfix sends a macro packet
 * before every header, so the EOH list is kept empty; DATA's too.
 */
export const SLUICE_MACROS: ReadonlyMap<number, string> = new Map([
  [MacroStage.CONNECT, "j {daemon_name} {client_addr} {client_port} {client_name}"],
  [MacroStage.HELO, "{tls_version} {cipher}"],
  [MacroStage.ENVFROM, "{auth_authen}"],
  // Only read with SMFIP_RCPT_REJ (recipients the MTA rejected itself).
  [MacroStage.ENVRCPT, "{rcpt_mailer}"],
  [MacroStage.DATA, ""],
  [MacroStage.EOH, ""],
  [MacroStage.EOM, "i"],
]);

/**
 * Always asked for, whatever the policy: no replies to DATA, headers, end of headers, body chunks
 * and unknown commands (the answer is given at end of message; reading pauses while commands
 * queue up, so the MTA still cannot outrun the pipeline); no DATA, EOH or UNKNOWN commands at all
 * (they carry nothing the Session uses; the end of the headers is the first body chunk or EOM);
 * header values exactly as received (HDR_LEADSPC), so stored and re-injected copies and DKIM see
 * the original bytes; SKIP, used after an intake refusal when the MTA does wait for body replies.
 */
const ALWAYS =
  Proto.NR_HDR |
  Proto.NR_BODY |
  Proto.NR_EOH |
  Proto.NR_DATA |
  Proto.NR_UNKN |
  Proto.NOUNKNOWN |
  Proto.NODATA |
  Proto.NOEOH |
  Proto.SKIP |
  Proto.HDR_LEADSPC;

const NO_REPLY: Record<EnvelopeStage, number> = {
  connect: Proto.NR_CONN,
  helo: Proto.NR_HELO,
  mail: Proto.NR_MAIL,
  rcpt: Proto.NR_RCPT,
};

/**
 * What to ask the MTA for, given what the pipeline may refuse before end of message: every
 * envelope stage is still sent (the Session needs the client address, the HELO name, sender and
 * recipients for every message), but only the stages in `needs.answer` wait for a reply.
 */
export function wantedFor(needs: StageNeeds): Wanted {
  let protocol = ALWAYS;
  for (const [stage, flag] of Object.entries(NO_REPLY) as [EnvelopeStage, number][]) {
    if (!needs.answer.has(stage)) protocol |= flag;
  }
  return {
    requiredActions: Act.ADDHDRS | Act.CHGHDRS | Act.ADDRCPT | Act.DELRCPT,
    optionalActions: Act.QUARANTINE | Act.ADDRCPT_PAR | Act.SETSYMLIST,
    optionalProtocol: protocol,
    largePackets: true,
    macros: SLUICE_MACROS,
  };
}

/** Without knowing the configuration: every envelope stage is answered. */
export const DEFAULT_WANTED: Wanted = wantedFor(ANSWER_ALL);

const overTcp = new WeakMap<Wanted, Wanted>();

/**
 * The same, for an MTA connected over TCP: DATA is sent and waits for a reply. Postfix sends the
 * DATA macro packet (from smtpd) even when DATA itself is not sent or not answered, and does not
 * set TCP_NODELAY: with nothing sent back, that packet is acknowledged only by our delayed ACK
 * (40 ms on Linux), and Nagle holds the headers and body cleanup writes next until then. Our
 * CONTINUE carries the ACK at once: one round trip of well under a millisecond instead of a
 * 40 ms stall per message (measured with Postfix 3.7, src/milter/README.md). Unix sockets have
 * no Nagle, so there DATA is neither sent nor answered.
 */
export function forTcp(want: Wanted): Wanted {
  let w = overTcp.get(want);
  if (!w) {
    w = { ...want, optionalProtocol: want.optionalProtocol & ~(Proto.NODATA | Proto.NR_DATA) };
    overTcp.set(want, w);
  }
  return w;
}

export function negotiate(offer: Offer, want: Wanted = DEFAULT_WANTED): Negotiated {
  if (offer.version < 2) throw new ProtocolError("version", `MTA milter version ${offer.version} is below 2`);
  // libmilter's defaults for MTAs that send 0 (protocol version 1 masks).
  const mtaActions = offer.actions === 0 ? 0x0f : offer.actions;
  const rawProto = offer.protocol === 0 ? 0x3f : offer.protocol;
  const mtaProto = rawProto & ~PROTO_INTERNAL;
  const missing = want.requiredActions & ~mtaActions;
  if (missing !== 0) {
    throw new ProtocolError(
      "actions",
      `MTA does not offer required actions 0x${missing.toString(16)} (offered 0x${mtaActions.toString(16)})`,
    );
  }
  let actions = want.requiredActions | (want.optionalActions & mtaActions);
  let protocol = want.optionalProtocol & mtaProto;
  let maxData = MAX_DATA_DEFAULT;
  if (want.largePackets && rawProto & Proto.MDS_1M) {
    protocol |= Proto.MDS_1M;
    maxData = MAX_DATA_1M;
  } else if (want.largePackets && rawProto & Proto.MDS_256K) {
    protocol |= Proto.MDS_256K;
    maxData = MAX_DATA_256K;
  }
  const useSymList = (actions & Act.SETSYMLIST) !== 0 && want.macros.size > 0;
  if (!useSymList) actions &= ~Act.SETSYMLIST;
  return {
    version: Math.min(offer.version, MILTER_VERSION),
    actions,
    protocol,
    maxData,
    macros: useSymList ? want.macros : new Map(),
  };
}

/** Whether the negotiated protocol says the MTA expects no reply to this command. */
export function noReplyFlag(type: string): number {
  switch (type) {
    case "connect":
      return Proto.NR_CONN;
    case "helo":
      return Proto.NR_HELO;
    case "mail":
      return Proto.NR_MAIL;
    case "rcpt":
      return Proto.NR_RCPT;
    case "data":
      return Proto.NR_DATA;
    case "header":
      return Proto.NR_HDR;
    case "eoh":
      return Proto.NR_EOH;
    case "body":
      return Proto.NR_BODY;
    case "unknown":
      return Proto.NR_UNKN;
    default:
      return 0;
  }
}
