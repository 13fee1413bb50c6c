// Milter protocol v6 numbers (from sendmail's mfdef.h), as `as const` tables.
// Data only: no encoding or decoding logic lives here.

/** MTA → milter command bytes (SMFIC_*). */
export const Cmd = {
  ABORT: 0x41, // A
  BODY: 0x42, // B
  CONNECT: 0x43, // C
  MACRO: 0x44, // D
  BODYEOB: 0x45, // E
  HELO: 0x48, // H
  QUIT_NC: 0x4b, // K
  HEADER: 0x4c, // L
  MAIL: 0x4d, // M
  EOH: 0x4e, // N
  OPTNEG: 0x4f, // O
  QUIT: 0x51, // Q
  RCPT: 0x52, // R
  DATA: 0x54, // T
  UNKNOWN: 0x55, // U
} as const;

/** Milter → MTA reply bytes (SMFIR_*). */
export const Rep = {
  ADDRCPT: 0x2b, // +
  DELRCPT: 0x2d, // -
  ADDRCPT_PAR: 0x32, // 2
  SHUTDOWN: 0x34, // 4
  ACCEPT: 0x61, // a
  REPLBODY: 0x62, // b
  CONTINUE: 0x63, // c
  DISCARD: 0x64, // d
  CHGFROM: 0x65, // e
  CONN_FAIL: 0x66, // f
  ADDHEADER: 0x68, // h
  INSHEADER: 0x69, // i
  SETSYMLIST: 0x6c, // l
  CHGHEADER: 0x6d, // m
  PROGRESS: 0x70, // p
  QUARANTINE: 0x71, // q
  REJECT: 0x72, // r
  SKIP: 0x73, // s
  TEMPFAIL: 0x74, // t
  REPLYCODE: 0x79, // y
  OPTNEG: 0x4f, // O
} as const;

/** Modification actions the milter may request (SMFIF_*). */
export const Act = {
  ADDHDRS: 0x01,
  CHGBODY: 0x02,
  ADDRCPT: 0x04,
  DELRCPT: 0x08,
  CHGHDRS: 0x10,
  QUARANTINE: 0x20,
  CHGFROM: 0x40,
  ADDRCPT_PAR: 0x80,
  SETSYMLIST: 0x100,
} as const;

/** Protocol flags (SMFIP_*): steps not sent, replies not expected, capabilities. */
export const Proto = {
  NOCONNECT: 0x1,
  NOHELO: 0x2,
  NOMAIL: 0x4,
  NORCPT: 0x8,
  NOBODY: 0x10,
  NOHDRS: 0x20,
  NOEOH: 0x40,
  NR_HDR: 0x80,
  NOUNKNOWN: 0x100,
  NODATA: 0x200,
  SKIP: 0x400,
  RCPT_REJ: 0x800,
  NR_CONN: 0x1000,
  NR_HELO: 0x2000,
  NR_MAIL: 0x4000,
  NR_RCPT: 0x8000,
  NR_DATA: 0x10000,
  NR_UNKN: 0x20000,
  NR_EOH: 0x40000,
  NR_BODY: 0x80000,
  HDR_LEADSPC: 0x100000,
  MDS_256K: 0x10000000,
  MDS_1M: 0x20000000,
} as const;

/** Bits libmilter treats as internal and masks off the MTA's offer. */
export const PROTO_INTERNAL = 0x70000000;

/** Macro stages used in SETSYMLIST (SMFIM_*). */
export const MacroStage = {
  CONNECT: 0,
  HELO: 1,
  ENVFROM: 2,
  ENVRCPT: 3,
  DATA: 4,
  EOM: 5,
  EOH: 6,
} as const;

export const MAX_DATA_DEFAULT = 65535;
export const MAX_DATA_256K = 256 * 1024 - 1;
export const MAX_DATA_1M = 1024 * 1024 - 1;
