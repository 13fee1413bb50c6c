import { describe, expect, it } from "vitest";
import { Act, MacroStage, Proto } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { DEFAULT_WANTED, forTcp, negotiate, noReplyFlag, SLUICE_MACROS, wantedFor } from "./negotiation.ts";
import type { EnvelopeStage } from "../pipeline/stage-needs.ts";

const needs = (...answer: EnvelopeStage[]) => ({ answer: new Set(answer), filters: [] });
const NR_ENVELOPE = Proto.NR_CONN | Proto.NR_HELO | Proto.NR_MAIL | Proto.NR_RCPT;

describe("negotiate", () => {
  it("answers Sendmail's full offer with min(version, 6), our actions and the offered protocol bits", () => {
    const n = negotiate({ version: 6, actions: 0x1ff, protocol: 0x1fffff });
    expect(n.version).toBe(6);
    expect(n.actions).toBe(
      Act.ADDHDRS |
        Act.CHGHDRS |
        Act.ADDRCPT |
        Act.DELRCPT |
        Act.QUARANTINE |
        Act.ADDRCPT_PAR |
        Act.SETSYMLIST,
    );
    expect(n.protocol).toBe(DEFAULT_WANTED.optionalProtocol);
    expect(n.protocol & Proto.HDR_LEADSPC).toBeTruthy();
    expect(n.maxData).toBe(65535);
    expect(n.macros.get(MacroStage.HELO)).toContain("{tls_version}");
  });

  it("never asks for more than the MTA offered", () => {
    const offer = { version: 6, actions: 0x1f, protocol: Proto.NR_HDR | Proto.NOUNKNOWN };
    const n = negotiate(offer);
    expect(n.actions & ~offer.actions).toBe(0);
    expect(n.protocol & ~offer.protocol).toBe(0);
    expect(n.protocol).toBe(Proto.NR_HDR | Proto.NOUNKNOWN);
    // No SETSYMLIST offered: no macro lists in the reply.
    expect(n.macros.size).toBe(0);
  });

  it("takes version min(MTA, 6) and refuses versions below 2", () => {
    expect(negotiate({ version: 7, actions: 0x1ff, protocol: 0 }).version).toBe(6);
    expect(negotiate({ version: 2, actions: 0x1ff, protocol: 0 }).version).toBe(2);
    expect(() => negotiate({ version: 1, actions: 0x1ff, protocol: 0 })).toThrow(ProtocolError);
  });

  it("reads actions 0 as 0x0F and protocol 0 as 0x3F (version 1 masks)", () => {
    // 0x0F lacks CHGHDRS, which Sluice needs.
    expect(() => negotiate({ version: 2, actions: 0, protocol: 0 })).toThrow(/required actions/);
    const w = {
      ...DEFAULT_WANTED,
      requiredActions: Act.ADDHDRS,
      optionalActions: 0xff,
      optionalProtocol: 0xff,
    };
    const n = negotiate({ version: 2, actions: 0, protocol: 0 }, w);
    expect(n.actions).toBe(0x0f);
    expect(n.protocol).toBe(0x3f);
  });

  it("refuses an MTA that lacks the actions Sluice needs", () => {
    expect(() => negotiate({ version: 6, actions: Act.ADDHDRS, protocol: 0 })).toThrow(/required actions/);
  });

  it("takes the largest offered packet size and masks the internal bits", () => {
    expect(negotiate({ version: 6, actions: 0x1ff, protocol: Proto.MDS_256K | Proto.MDS_1M }).maxData).toBe(
      1024 * 1024 - 1,
    );
    const n256 = negotiate({ version: 6, actions: 0x1ff, protocol: Proto.MDS_256K | 0x40000000 });
    expect(n256.maxData).toBe(256 * 1024 - 1);
    expect(n256.protocol).toBe(Proto.MDS_256K);
    expect(
      negotiate(
        { version: 6, actions: 0x1ff, protocol: Proto.MDS_1M },
        { ...DEFAULT_WANTED, largePackets: false },
      ).maxData,
    ).toBe(65535);
  });

  it("waits only for the envelope stages the policy may refuse; every stage is still sent", () => {
    const offer = { version: 6, actions: 0x1ff, protocol: 0x1fffff };
    // Nothing before DATA can refuse: CONNECT, HELO, MAIL and RCPT come without waiting.
    const none = negotiate(offer, wantedFor(needs())).protocol;
    expect(none & NR_ENVELOPE).toBe(NR_ENVELOPE);
    // The cheap filters: size at MAIL, lists at RCPT.
    const cheap = negotiate(offer, wantedFor(needs("mail", "rcpt"))).protocol;
    expect(cheap & NR_ENVELOPE).toBe(Proto.NR_CONN | Proto.NR_HELO);
    expect(DEFAULT_WANTED.optionalProtocol & NR_ENVELOPE).toBe(0);
    for (const p of [none, cheap]) {
      // The Session needs every envelope stage's data, the headers and the body.
      const sent = Proto.NOCONNECT | Proto.NOHELO | Proto.NOMAIL | Proto.NORCPT | Proto.NOHDRS | Proto.NOBODY;
      expect(p & sent).toBe(0);
      // No reply ever to DATA, headers, EOH, body; no DATA, EOH or UNKNOWN packets at all.
      const nr = Proto.NR_DATA | Proto.NR_HDR | Proto.NR_EOH | Proto.NR_BODY | Proto.NR_UNKN;
      expect(p & nr).toBe(nr);
      const skipped = Proto.NODATA | Proto.NOEOH | Proto.NOUNKNOWN;
      expect(p & skipped).toBe(skipped);
      expect(p & Proto.HDR_LEADSPC).toBeTruthy();
    }
  });

  it("asks for the macros Sluice reads and no others", () => {
    const n = negotiate({ version: 6, actions: 0x1ff, protocol: 0x1fffff }, wantedFor(needs()));
    expect(n.macros).toBe(SLUICE_MACROS);
    const all = [...n.macros.values()].join(" ").split(" ").filter(Boolean).sort();
    expect(all).toEqual([
      "i",
      "j",
      "{auth_authen}",
      "{cipher}",
      "{client_addr}",
      "{client_name}",
      "{client_port}",
      "{daemon_name}",
      "{rcpt_mailer}",
      "{tls_version}",
    ]);
    // Postfix sends the EOH list before every header: it stays empty.
    expect(n.macros.get(MacroStage.EOH)).toBe("");
  });

  it("over TCP, DATA is sent and waits for a reply; nothing else changes", () => {
    const offer = { version: 6, actions: 0x1ff, protocol: 0x1fffff };
    for (const w of [DEFAULT_WANTED, wantedFor(needs()), wantedFor(needs("mail", "rcpt"))]) {
      const tcp = negotiate(offer, forTcp(w));
      const unix = negotiate(offer, w);
      expect(unix.protocol & (Proto.NODATA | Proto.NR_DATA)).toBe(Proto.NODATA | Proto.NR_DATA);
      expect(tcp.protocol & (Proto.NODATA | Proto.NR_DATA)).toBe(0);
      expect(tcp.protocol | Proto.NODATA | Proto.NR_DATA).toBe(unix.protocol);
      expect(tcp.macros).toBe(unix.macros);
      // Worked out once per configuration.
      expect(forTcp(w)).toBe(forTcp(w));
    }
  });

  it("maps commands to their no-reply flags", () => {
    expect(noReplyFlag("header")).toBe(Proto.NR_HDR);
    expect(noReplyFlag("connect")).toBe(Proto.NR_CONN);
    expect(noReplyFlag("body")).toBe(Proto.NR_BODY);
    expect(noReplyFlag("eom")).toBe(0);
  });
});
