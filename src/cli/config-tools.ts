// `sluice config explain PATH` and `sluice config schema`: what a setting is in force and why,
// and the JSON Schema editors use for sluice.yaml. (`config check` sits in main.ts.)
import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { configJsonSchemaText } from "../config/json-schema.ts";
import { QUICKSTART_YAML } from "../config/quickstart.ts";
import { builtinFilters } from "../filters/index.ts";
import { FilterRegistry } from "../pipeline/registry.ts";
import { explainConfig, formatExplanation } from "./config-explain.ts";
import { CliUsageError } from "./quarantine.ts";

export function registerConfigTools(config: Command): void {
  config
    .command("explain")
    .description(
      "show the value in force of one setting and which layer set it (file line, default, or the policy layer that wins)",
    )
    .argument(
      "<path>",
      "e.g. smtp.limits.max_recipients, policy.thresholds.quarantine, tenants[example].delivery",
    )
    .option("-c, --config <file>", "configuration file (default: embedded quick-start)")
    .option("--tenant <id>", "for policy settings: the value in force for this tenant's recipients")
    .option("--json", "one JSON object")
    .action(async (path: string, o: { config?: string; tenant?: string; json?: boolean }) => {
      let text = QUICKSTART_YAML;
      if (o.config) {
        try {
          text = await readFile(o.config, "utf8");
        } catch (err) {
          throw new CliUsageError(`cannot read ${o.config}: ${(err as Error).message}`);
        }
      }
      const file = o.config ?? "(embedded quick-start)";
      const e = await explainConfig(text, file, path, new FilterRegistry(builtinFilters()), o);
      process.stdout.write(o.json ? JSON.stringify(e) + "\n" : formatExplanation(e));
    });

  config
    .command("schema")
    .description("print the JSON Schema of sluice.yaml (editor completion), or write it to a file")
    .option("--out <file>", "write it here (schema/sluice-config.schema.json in the repository)")
    .action(async (o: { out?: string }) => {
      if (o.out) await writeFile(o.out, configJsonSchemaText());
      else process.stdout.write(configJsonSchemaText());
    });
}
