// Recursive-descent parser for the RFC 5228 grammar (section 8.2): commands, blocks, tests, arguments.
// Not a validator: any identifier is accepted as a command or test; meaning is checked in validator.ts.

import type { Argument, CommandNode, Pos, StringLit, TestNode } from "./ast.ts";
import { SieveSyntaxError, type SieveDiagnostic } from "./errors.ts";
import { describeToken, tokenize, type Token } from "./lexer.ts";

export interface ParseOptions {
  /** Deepest allowed nesting of blocks and tests together; guards the recursion itself. */
  maxNestingDepth: number;
  /** Stop collecting after this many errors. */
  maxErrors?: number;
}

export interface ParseResult {
  commands: CommandNode[];
  errors: SieveDiagnostic[];
}

// Only used to word the "expected" message; the validator decides which commands take blocks.
const BLOCK_COMMANDS = new Set(["if", "elsif", "else"]);

/** Too deep to continue at all: unwinds the whole parse rather than recovering locally. */
class NestingError extends SieveSyntaxError {}

class Parser {
  private pos = 0;
  readonly errors: SieveDiagnostic[] = [];
  private readonly tokens: Token[];
  private readonly options: ParseOptions;

  constructor(tokens: Token[], options: ParseOptions) {
    this.tokens = tokens;
    this.options = options;
  }

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.pos++;
    return t;
  }
  private isPunct(ch: string): boolean {
    const t = this.peek();
    return t.kind === "punct" && t.text === ch;
  }
  private fail(t: Token, message: string): never {
    throw new SieveSyntaxError(t.pos.line, t.pos.column, message);
  }
  private checkDepth(depth: number, at: Pos): void {
    if (depth > this.options.maxNestingDepth) {
      throw new NestingError(
        at.line,
        at.column,
        `nesting deeper than ${this.options.maxNestingDepth} levels`,
      );
    }
  }

  parseCommands(depth: number, inBlock: boolean): CommandNode[] {
    const commands: CommandNode[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === "eof") {
        if (inBlock) this.record(t, 'expected "}" before end of script');
        return commands;
      }
      if (this.isPunct("}")) {
        if (inBlock) return commands;
        this.record(t, 'unexpected "}" without matching "{"');
        this.next();
        continue;
      }
      try {
        commands.push(this.parseCommand(depth));
      } catch (err) {
        if (!(err instanceof SieveSyntaxError) || err instanceof NestingError) throw err;
        this.errors.push({ line: err.line, column: err.column, message: err.message });
        if (this.errors.length >= (this.options.maxErrors ?? 20)) return commands;
        this.recover();
      }
    }
  }

  private record(t: Token, message: string): void {
    this.errors.push({ line: t.pos.line, column: t.pos.column, message });
  }

  /** Skip to the end of the broken command: past its ";" or block, or up to the enclosing "}". */
  private recover(): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === "eof") return;
      if (t.kind === "punct") {
        if (t.text === "{") depth++;
        if (t.text === "}") {
          if (depth === 0) return;
          depth--;
          if (depth === 0) {
            this.next();
            return;
          }
        }
        if (t.text === ";" && depth === 0) {
          this.next();
          return;
        }
      }
      this.next();
    }
  }

  private parseCommand(depth: number): CommandNode {
    const t = this.next();
    if (t.kind !== "identifier") this.fail(t, `expected command name, found ${describeToken(t)}`);
    const node = this.parseTestLike(t, depth, "command") as CommandNode;
    node.block = null;
    if (this.isPunct(";")) {
      this.next();
    } else if (this.isPunct("{")) {
      const open = this.next();
      this.checkDepth(depth + 1, open.pos);
      node.block = this.parseCommands(depth + 1, true);
      const close = this.next();
      if (!(close.kind === "punct" && close.text === "}")) this.fail(close, 'expected "}" to close block');
    } else {
      const want = BLOCK_COMMANDS.has(t.text) ? '"{"' : '";"';
      this.fail(
        this.peek(),
        `expected ${want} after command "${t.text}", found ${describeToken(this.peek())}`,
      );
    }
    return node;
  }

  /** Arguments, then an optional test or test-list; shared by commands and tests. */
  private parseTestLike(name: Token, depth: number, what: "command" | "test"): TestNode {
    const node: TestNode = { name: name.text, args: [], tests: [], testList: false, pos: name.pos };
    for (;;) {
      const t = this.peek();
      if (t.kind === "tag") {
        this.next();
        node.args.push({ kind: "tag", name: t.text, pos: t.pos });
      } else if (t.kind === "number") {
        this.next();
        node.args.push({ kind: "number", value: t.value, pos: t.pos });
      } else if (t.kind === "string") {
        this.next();
        node.args.push({
          kind: "strings",
          values: [{ value: t.text, pos: t.pos }],
          bracketed: false,
          pos: t.pos,
        });
      } else if (this.isPunct("[")) {
        node.args.push(this.parseStringList());
      } else {
        break;
      }
    }
    const t = this.peek();
    if (t.kind === "identifier") {
      this.checkDepth(depth + 1, t.pos);
      node.tests.push(this.parseTest(depth + 1));
    } else if (this.isPunct("(")) {
      this.next();
      this.checkDepth(depth + 1, t.pos);
      node.testList = true;
      for (;;) {
        const tt = this.peek();
        if (tt.kind !== "identifier")
          this.fail(tt, `expected test name in test list, found ${describeToken(tt)}`);
        node.tests.push(this.parseTest(depth + 1));
        const sep = this.next();
        if (sep.kind === "punct" && sep.text === ")") break;
        if (!(sep.kind === "punct" && sep.text === ",")) {
          this.fail(
            sep,
            `expected "," or ")" in test list of ${what} "${name.text}", found ${describeToken(sep)}`,
          );
        }
      }
    }
    return node;
  }

  private parseTest(depth: number): TestNode {
    const t = this.next();
    return this.parseTestLike(t, depth, "test");
  }

  private parseStringList(): Argument {
    const open = this.next();
    const values: StringLit[] = [];
    for (;;) {
      const s = this.next();
      if (s.kind !== "string") this.fail(s, `expected string in string list, found ${describeToken(s)}`);
      values.push({ value: s.text, pos: s.pos });
      const sep = this.next();
      if (sep.kind === "punct" && sep.text === "]") break;
      if (!(sep.kind === "punct" && sep.text === ",")) {
        this.fail(sep, `expected "," or "]" in string list, found ${describeToken(sep)}`);
      }
    }
    return { kind: "strings", values, bracketed: true, pos: open.pos };
  }
}

export function parse(source: string, options: ParseOptions): ParseResult {
  let tokens: Token[];
  try {
    tokens = tokenize(source);
  } catch (err) {
    if (err instanceof SieveSyntaxError) {
      return { commands: [], errors: [{ line: err.line, column: err.column, message: err.message }] };
    }
    throw err;
  }
  const parser = new Parser(tokens, options);
  try {
    const commands = parser.parseCommands(0, false);
    return { commands, errors: parser.errors };
  } catch (err) {
    if (!(err instanceof NestingError)) throw err;
    return {
      commands: [],
      errors: [...parser.errors, { line: err.line, column: err.column, message: err.message }],
    };
  }
}
