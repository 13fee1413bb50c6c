import { describe, expect, it } from "vitest";
import { Act, MacroStage, Proto } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { DEFAULT_WANTED, negotiate, noReplyFlag } from "./negotiation.ts";

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

  it("maps commands to their no-reply flags", () => {
    expect(noReplyFlag("header")).toBe(Proto.NR_HDR);
    expect(noReplyFlag("connect")).toBe(Proto.NR_CONN);
    expect(noReplyFlag("body")).toBe(Proto.NR_BODY);
    expect(noReplyFlag("eom")).toBe(0);
  });
});
