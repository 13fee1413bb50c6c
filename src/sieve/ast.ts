// Syntax tree produced by the parser: commands, tests and raw arguments with source positions.
// Not validated: nothing here knows which commands exist or what their arguments mean.

export interface Pos {
  line: number;
  column: number;
}

export interface StringLit {
  value: string;
  pos: Pos;
}

export type Argument =
  | { kind: "tag"; name: string; pos: Pos }
  | { kind: "number"; value: number; pos: Pos }
  | { kind: "strings"; values: StringLit[]; bracketed: boolean; pos: Pos };

export interface TestNode {
  name: string;
  args: Argument[];
  tests: TestNode[];
  /** True when the tests were written as a parenthesised test-list. */
  testList: boolean;
  pos: Pos;
}

export interface CommandNode extends TestNode {
  /** null when the command ended with ";" rather than a block. */
  block: CommandNode[] | null;
}
