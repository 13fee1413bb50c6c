// The set of commands, tests and capabilities a compiled script may use, built from extension modules.
// Not global state: a registry is plain data, and callers could build a narrower one.

import { bodyExtension } from "./extensions/body.ts";
import { capabilityOnlyExtension } from "./extensions/capabilities.ts";
import { coreCommands } from "./extensions/core-commands.ts";
import { coreTests } from "./extensions/core-tests.ts";
import { dateExtension } from "./extensions/date.ts";
import { editheaderExtension } from "./extensions/editheader.ts";
import { enotifyExtension } from "./extensions/enotify.ts";
import { ihaveExtension } from "./extensions/ihave.ts";
import { includeExtension } from "./extensions/include.ts";
import { mimeExtension } from "./extensions/mime.ts";
import { envelopeExtension } from "./extensions/envelope.ts";
import { environmentExtension } from "./extensions/environment.ts";
import { extlistsExtension } from "./extensions/extlists.ts";
import { fileintoExtension } from "./extensions/fileinto.ts";
import { imap4flagsExtension } from "./extensions/imap4flags.ts";
import { rejectExtension } from "./extensions/reject.ts";
import { sluiceExtension } from "./extensions/sluice.ts";
import { spamtestExtension } from "./extensions/spamtest.ts";
import { variablesExtension } from "./extensions/variables.ts";
import type { CommandDef, Extension, TestDef } from "./spec.ts";

export interface Registry {
  capabilities: ReadonlySet<string>;
  implies: ReadonlyMap<string, readonly string[]>;
  commands: ReadonlyMap<string, CommandDef>;
  tests: ReadonlyMap<string, TestDef>;
}

export function buildRegistry(extensions: Extension[]): Registry {
  const capabilities = new Set<string>();
  const commands = new Map<string, CommandDef>();
  const tests = new Map<string, TestDef>();
  const implies = new Map<string, string[]>();
  for (const ext of extensions) {
    for (const [cap, also] of Object.entries(ext.implies ?? {})) implies.set(cap, also);
    ext.capabilities.forEach((c) => capabilities.add(c));
    for (const c of ext.commands) {
      if (commands.has(c.name)) throw new Error(`command "${c.name}" registered twice`);
      commands.set(c.name, c);
    }
    for (const t of ext.tests) {
      if (tests.has(t.name)) throw new Error(`test "${t.name}" registered twice`);
      tests.set(t.name, t);
    }
  }
  return { capabilities, implies, commands, tests };
}

export const ALL_EXTENSIONS: readonly Extension[] = [
  coreCommands,
  coreTests,
  capabilityOnlyExtension,
  fileintoExtension,
  rejectExtension,
  envelopeExtension,
  bodyExtension,
  variablesExtension,
  spamtestExtension,
  editheaderExtension,
  dateExtension,
  environmentExtension,
  extlistsExtension,
  imap4flagsExtension,
  mimeExtension,
  includeExtension,
  ihaveExtension,
  enotifyExtension,
  sluiceExtension,
];

export const DEFAULT_REGISTRY: Registry = buildRegistry([...ALL_EXTENSIONS]);
