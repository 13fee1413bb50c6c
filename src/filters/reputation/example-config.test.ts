// examples/defences.yaml (the README's quick start with the defences on) stays a valid
// configuration, and its zones mean what the comments say.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../config/load.ts";
import { builtinFilters } from "../index.ts";
import { FilterRegistry } from "../../pipeline/registry.ts";
import { rulesOf } from "./lookup.ts";
import { meaningOf } from "./zone-answer.ts";
import type { DnsblOptions } from "./options.ts";

describe("examples/defences.yaml", () => {
  it("is valid, with pregreet on the inbound listener and the four filters enabled", () => {
    const registry = new FilterRegistry(builtinFilters());
    const text = readFileSync("examples/defences.yaml", "utf8");
    const config = parseConfig(text, "examples/defences.yaml", registry);
    expect(config.smtp.listeners.inbound.pregreet).toMatchObject({
      enabled: true,
      wait_ms: 2000,
      teaser: true,
    });
    for (const f of ["dnsbl", "uribl", "greylist", "ratelimit"])
      expect(config.policy.filters?.[f]?.enabled).toBe(true);
    const o = registry.parseOptions("dnsbl", config.policy.filters!.dnsbl!.options) as DnsblOptions;
    const zen = rulesOf(o.zones[0]!);
    expect(meaningOf(zen, ["127.0.0.6"]).hits.map((h) => h.symbol)).toEqual(["RBL_SPAMHAUS_XBL"]);
    expect(meaningOf(zen, ["127.255.255.254"])).toMatchObject({ hits: [], refused: ["127.255.255.254"] });
    const dnswl = rulesOf(o.zones[3]!);
    expect(meaningOf(dnswl, ["127.0.15.2"]).hits).toEqual([
      { symbol: "RCVD_IN_DNSWL_MED", score: -3, code: "127.0.15.2" },
    ]);
    expect(meaningOf(dnswl, ["127.0.0.255"]).refused).toEqual(["127.0.0.255"]);
  });
});
