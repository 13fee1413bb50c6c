// A recording Session for tests and benchmarks: remembers every call and the message bytes,
// and answers with decisions supplied by the test. Not a pipeline; it runs no filters.
import type { ConnectInfo, DataResult, Session, StageReply } from "./session.ts";
import { emptyEnvelope } from "../message/envelope.ts";
import {
  DEFAULT_INTAKE,
  Transaction,
  type IntakeLimits,
  type MessageWriter,
} from "../message/transaction.ts";

export type SessionCall =
  | { call: "connect"; info: ConnectInfo }
  | { call: "helo"; name: string }
  | { call: "setTls"; protocol: string; cipher: string }
  | { call: "setAuth"; login: string | null }
  | { call: "mail"; address: string; params: Record<string, string | true> }
  | { call: "rcpt"; address: string; params: Record<string, string | true> }
  | { call: "beginData" }
  | { call: "data"; message: Buffer }
  | { call: "reset" }
  | { call: "close" };

export interface FakeDecisions {
  connect?: (info: ConnectInfo) => StageReply;
  helo?: (name: string) => StageReply;
  mail?: (address: string) => StageReply;
  rcpt?: (address: string) => StageReply;
  /** Default: one deliver group with every recipient and no edits. */
  data?: (tx: Transaction, message: Buffer) => DataResult | Promise<DataResult>;
}

const OK: StageReply = { ok: true };

export class FakeSession implements Session {
  readonly calls: SessionCall[] = [];
  tx: Transaction | null = null;
  private readonly decide: FakeDecisions;
  private readonly record: boolean;
  private readonly limits: IntakeLimits;

  /** record=false keeps no message copies (benchmarks). */
  constructor(decide: FakeDecisions = {}, record = true, limits: IntakeLimits = DEFAULT_INTAKE) {
    this.decide = decide;
    this.record = record;
    this.limits = limits;
  }

  private note(c: SessionCall): void {
    if (this.record || c.call === "connect") this.calls.push(c);
  }

  private env = emptyEnvelope("milter");

  async connect(info: ConnectInfo): Promise<StageReply> {
    this.note({ call: "connect", info });
    this.env = { ...emptyEnvelope("milter", info.address), localName: info.localName };
    this.env.client = { address: info.address, port: info.port, name: info.name };
    return this.decide.connect?.(info) ?? OK;
  }
  async helo(name: string): Promise<StageReply> {
    this.note({ call: "helo", name });
    this.env.helo = name;
    return this.decide.helo?.(name) ?? OK;
  }
  setTls(protocol: string, cipher: string): void {
    this.note({ call: "setTls", protocol, cipher });
    this.env.tls = { protocol, cipher };
  }
  setAuth(login: string | null): void {
    this.note({ call: "setAuth", login });
    this.env.auth = login;
  }
  async mail(address: string, params: Record<string, string | true>): Promise<StageReply> {
    this.note({ call: "mail", address, params });
    const r = this.decide.mail?.(address) ?? OK;
    if (r.ok) {
      this.env = { ...this.env, mailFrom: { address, params }, recipients: [] };
      this.tx = new Transaction(this.env, this.limits);
    }
    return r;
  }
  async rcpt(address: string, params: Record<string, string | true>): Promise<StageReply> {
    this.note({ call: "rcpt", address, params });
    const r = this.decide.rcpt?.(address) ?? OK;
    if (r.ok) this.tx?.envelope.recipients.push({ address, params });
    return r;
  }
  beginData(): MessageWriter {
    this.note({ call: "beginData" });
    if (!this.tx) throw new Error("beginData without a transaction");
    return this.tx.writer();
  }
  async data(): Promise<DataResult> {
    const tx = this.tx;
    if (!tx?.spool) throw new Error("data() without message data");
    const message = this.record || this.decide.data ? await readAll(tx) : Buffer.alloc(0);
    this.note({ call: "data", message });
    if (this.decide.data) return this.decide.data(tx, message);
    const recipients = tx.envelope.recipients.map((r) => r.address);
    return {
      reply: null,
      groups: [
        {
          recipients,
          disposition: "deliver",
          edits: [],
          bcc: [],
          redirect: null,
          reason: null,
          holdMinutes: null,
        },
      ],
      verdicts: [],
    };
  }
  async reset(): Promise<void> {
    this.note({ call: "reset" });
    await this.tx?.dispose();
    this.tx = null;
  }
  async close(): Promise<void> {
    this.note({ call: "close" });
  }

  /** Message bytes of every data() call, in order. */
  messages(): Buffer[] {
    return this.calls.flatMap((c) => (c.call === "data" ? [c.message] : []));
  }
}

async function readAll(tx: Transaction): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of tx.spool!.stream()) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
