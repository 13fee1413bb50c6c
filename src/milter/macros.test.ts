import { describe, expect, it } from "vitest";
import { Cmd } from "./constants.ts";
import { MacroStore } from "./macros.ts";

describe("MacroStore", () => {
  it("finds names with or without braces, newest stage first", () => {
    const m = new MacroStore();
    m.set(Cmd.CONNECT, [
      ["{client_addr}", "192.0.2.1"],
      ["j", "mx"],
    ]);
    m.set(Cmd.MAIL, [["{client_addr}", "override"]]);
    expect(m.get("client_addr")).toBe("override");
    expect(m.get("{client_addr}")).toBe("override");
    expect(m.get("j")).toBe("mx");
    expect(m.get("i")).toBeUndefined();
  });

  it("a new list for a stage drops that stage and every later one", () => {
    const m = new MacroStore();
    m.set(Cmd.CONNECT, [["j", "mx"]]);
    m.set(Cmd.MAIL, [["{mail_addr}", "a@x"]]);
    m.set(Cmd.RCPT, [["{rcpt_addr}", "b@y"]]);
    m.set(Cmd.MAIL, [["{auth_authen}", "u"]]);
    expect(m.get("rcpt_addr")).toBeUndefined();
    expect(m.get("mail_addr")).toBeUndefined();
    expect(m.get("auth_authen")).toBe("u");
    expect(m.get("j")).toBe("mx");
  });

  it("clearFrom(MAIL) keeps connection macros (ABORT)", () => {
    const m = new MacroStore();
    m.set(Cmd.CONNECT, [["j", "mx"]]);
    m.set(Cmd.HELO, [["{tls_version}", "TLSv1.3"]]);
    m.set(Cmd.BODYEOB, [["i", "Q1"]]);
    m.clearFrom(Cmd.MAIL);
    expect(m.get("i")).toBeUndefined();
    expect(m.get("tls_version")).toBe("TLSv1.3");
    m.clear();
    expect(m.get("j")).toBeUndefined();
  });

  it("empty lists and stages outside the order (UNKNOWN) keep the rule", () => {
    const m = new MacroStore();
    m.set(Cmd.CONNECT, [["j", "mx"]]);
    m.set(Cmd.HEADER, []);
    m.set(Cmd.UNKNOWN, [["{x}", "1"]]);
    expect(m.get("x")).toBe("1");
    expect(m.get("j")).toBe("mx");
    m.set(Cmd.CONNECT, []);
    expect(m.get("j")).toBeUndefined();
    m.clearFrom(Cmd.MAIL);
    expect(m.get("x")).toBeUndefined();
  });
});
