// Manual pages generated from the command definitions themselves (commander), so `--help`,
// `sluice man` and the pages `npm pack` ships never disagree: sluice(1) lists every command and
// the node's files, signals and environment; sluice-CMD-SUB(1) has one command's synopsis and options.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Argument, Command, Option } from "commander";
import { VERSION } from "./version.ts";

/** Every command below `root` that does something (groups such as `quarantine` are left out). */
export function leafCommands(root: Command): Command[] {
  const out: Command[] = [];
  const visit = (c: Command) => {
    for (const sub of c.commands) {
      if (sub.commands.length === 0) out.push(sub);
      visit(sub);
    }
  };
  visit(root);
  return out;
}

/** "quarantine list" for `sluice quarantine list`. */
export function commandPath(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x?.parent; x = x.parent) names.unshift(x.name());
  return names.join(" ");
}

const pageName = (c: Command) => ["sluice", ...commandPath(c).split(" ")].join("-");

/** troff text: backslashes, a leading dot or quote, hyphens that are minus signs. */
function roff(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/^([.'])/gm, "\\&$1");
}

function header(name: string, section = 1): string[] {
  return [`.TH ${name.toUpperCase()} ${section} "" "sluice ${VERSION}" "Sluice manual"`];
}

function argumentText(a: Argument): string {
  const name = a.name() + (a.variadic ? "..." : "");
  return a.required ? `<${name}>` : `[${name}]`;
}

function optionText(o: Option): string[] {
  const extra: string[] = [];
  if (o.argChoices) extra.push(`one of: ${o.argChoices.join(", ")}`);
  const dflt = o.defaultValueDescription ?? o.defaultValue;
  if (dflt !== undefined && !(Array.isArray(dflt) && dflt.length === 0)) {
    extra.push(`default: ${typeof dflt === "string" ? dflt : JSON.stringify(dflt)}`);
  }
  if (o.mandatory) extra.push("required");
  const text = o.description + (extra.length ? ` (${extra.join("; ")})` : "");
  return [".TP", `.B ${roff(o.flags)}`, roff(text)];
}

/** The page of one command. */
export function commandPage(c: Command): string {
  const path = commandPath(c);
  const args = c.registeredArguments.map(argumentText).join(" ");
  const options = c.options.filter((o) => !o.hidden);
  const lines = [
    ...header(pageName(c)),
    ".SH NAME",
    `${pageName(c)} \\- ${roff(c.description())}`,
    ".SH SYNOPSIS",
    `.B sluice ${roff(path)}`,
    roff(`${options.length ? "[options] " : ""}${args}`.trim()),
    ".SH DESCRIPTION",
    roff(`${c.description()}.`),
  ];
  const described = c.registeredArguments.filter((a) => a.description);
  if (described.length) {
    lines.push(".SH ARGUMENTS");
    for (const a of described) lines.push(".TP", `.I ${roff(a.name())}`, roff(a.description));
  }
  if (options.length) {
    lines.push(".SH OPTIONS");
    for (const o of options) lines.push(...optionText(o));
  }
  lines.push(
    ".SH EXIT STATUS",
    "0 on success, 2 for a usage or configuration error (one line on standard error), 1 otherwise.",
    ".SH SEE ALSO",
    ".BR sluice (1)",
  );
  return lines.join("\n") + "\n";
}

/** sluice(1): what Sluice is, every command, files, signals and environment. */
export function mainPage(root: Command): string {
  const lines = [
    ...header("sluice"),
    ".SH NAME",
    `sluice \\- ${roff(root.description())}`,
    ".SH SYNOPSIS",
    ".B sluice",
    "<command> [options] [arguments]",
    ".br",
    ".B sluice",
    "\\-\\-version | \\-\\-help | <command> \\-\\-help",
    ".SH DESCRIPTION",
    "Sluice checks mail right after TLS is decrypted, as a milter inside Postfix or Sendmail or as",
    "a before\\-queue SMTP proxy: sender authentication, viruses, spam, per\\-user lists and Sieve",
    "policy, per tenant. Without a configuration file it runs an embedded quick\\-start setup.",
    ".SH COMMANDS",
  ];
  for (const c of leafCommands(root)) {
    lines.push(
      ".TP",
      `.B sluice ${roff(commandPath(c))}`,
      `${roff(c.description())}; see ${pageName(c)}(1).`,
    );
  }
  lines.push(
    ".SH FILES",
    ".TP",
    ".I /etc/sluice/sluice.yaml",
    "the configuration (any path, given with \\-\\-config); examples/sluice.yaml explains every setting",
    ".TP",
    ".I /var/lib/sluice/",
    "state in the packaged setups: the SQLite store, the spool, the self\\-signed certificate, the",
    "last applied cluster revision",
    ".SH SIGNALS",
    ".TP",
    ".B HUP",
    "reload the configuration and the TLS certificates without dropping sessions; a bad file is",
    "refused and the old configuration stays",
    ".TP",
    ".B TERM, INT",
    "stop accepting, finish the sessions in flight, stop",
    ".SH ENVIRONMENT",
    ".TP",
    ".B SLUICE_PASSWORD",
    "password for web adduser and the commands that log in to a node (else standard input)",
    ".TP",
    ".B SLUICE_SECRET_KEY",
    "32\\-byte key sealing DKIM private keys in the store, when secrets.key_file is not set",
    ".TP",
    ".B SLUICE_LOGIN",
    "operator login for commands that talk to a running node",
    ".SH SEE ALSO",
    "The docs/ folder of the distribution: install, upgrade, backup and restore, operations.",
  );
  return lines.join("\n") + "\n";
}

/** Write sluice.1 and one page per command into `dir`; returns the file names. */
export function writeManPages(root: Command, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const pages: [string, string][] = [
    ["sluice.1", mainPage(root)],
    ...leafCommands(root).map((c): [string, string] => [`${pageName(c)}.1`, commandPage(c)]),
  ];
  for (const [name, text] of pages) writeFileSync(join(dir, name), text);
  return pages.map(([name]) => name);
}

/** `sluice man [command...] [--out DIR]`. Register it last: it documents what exists then. */
export function registerManCommand(program: Command): void {
  program
    .command("man")
    .description("print the manual page of sluice or of one command (pipe into man -l -), or write them all")
    .argument("[command...]", "a command, e.g. quarantine list; none: the sluice(1) page")
    .option("--out <dir>", "write sluice.1 and one page per command into this folder")
    .action((words: string[], o: { out?: string }) => {
      if (o.out) {
        const names = writeManPages(program, o.out);
        process.stdout.write(`${names.length} manual pages written to ${o.out}\n`);
        return;
      }
      if (words.length === 0) {
        process.stdout.write(mainPage(program));
        return;
      }
      const want = words.join(" ");
      const c = leafCommands(program).find((x) => commandPath(x) === want);
      if (!c) {
        process.stderr.write(`sluice: no command "${want}" (sluice --help lists them)\n`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(commandPage(c));
    });
}
