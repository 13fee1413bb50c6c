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

export const DEFAULT_MACROS: ReadonlyMap<number, string> = new Map([
  [MacroStage.CONNECT, "j _ v {daemon_name} {client_addr} {client_port} {client_name} {client_ptr}"],
  [MacroStage.HELO, "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"],
  [MacroStage.ENVFROM, "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}"],
  [MacroStage.ENVRCPT, "{rcpt_addr} {rcpt_host} {rcpt_mailer}"],
  [MacroStage.DATA, "i"],
  [MacroStage.EOH, "i"],
  [MacroStage.EOM, "i"],
]);

export const DEFAULT_WANTED: Wanted = {
  requiredActions: Act.ADDHDRS | Act.CHGHDRS | Act.ADDRCPT | Act.DELRCPT,
  optionalActions: Act.QUARANTINE | Act.ADDRCPT_PAR | Act.SETSYMLIST,
  // No replies to headers, EOH, body chunks, DATA and UNKNOWN: the answer is given at end of
  // message, and each saved round trip is one less wait per header line or 64 KiB of body.
  // Reading pauses while commands queue up, so the MTA still cannot outrun the pipeline.
  optionalProtocol:
    Proto.NR_HDR |
    Proto.NR_BODY |
    Proto.NR_EOH |
    Proto.NR_DATA |
    Proto.NR_UNKN |
    Proto.NOUNKNOWN |
    Proto.SKIP |
    Proto.HDR_LEADSPC,
  largePackets: true,
  macros: DEFAULT_MACROS,
};

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
