// Property-based fuzz targets (fast-check) for the parsers that take input from outside: SMTP
// commands and DATA framing, the milter codec, the MIME view and attachment inspection, Sieve,
// the configuration loader and LDAP entries. Each target is an arbitrary plus a check that
// throws on a broken property (an unexpected error type, a wrong result, a hang). Run short and
// seeded by `npm test` (fuzz.test.ts), long by `npm run fuzz` (test/fuzz/run.ts).
import fc from "fast-check";
import { connect } from "node:net";
import { PassThrough, Readable } from "node:stream";
import { stringify } from "yaml";
import pino from "pino";
import { SmtpInput } from "../../src/smtp/input.ts";
import { parseEsmtpParams, stripPath } from "../../src/message/envelope.ts";
import { FrameReader } from "../../src/milter/framing.ts";
import { decodeCommand } from "../../src/milter/commands.ts";
import { ProtocolError } from "../../src/milter/errors.ts";
import { Cmd } from "../../src/milter/constants.ts";
import { mta } from "../helpers/milter-mta.ts";
import { parseMime } from "../../src/message/mime.ts";
import { inspectAttachments, isExecutable } from "../../src/filters/virus/attachments.ts";
import { inspectZip } from "../../src/filters/virus/zip.ts";
import { compileSieve, runSieve, SieveCompileError, SieveRuntimeError } from "../../src/sieve/index.ts";
import { fakeEnv } from "../../src/sieve/environment.fake.ts";
import { parseConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { FilterRegistry } from "../../src/pipeline/registry.ts";
import { builtinFilters } from "../../src/filters/index.ts";
import { entryToUser } from "../../src/policy/ldap/attributes.ts";
import { attributeMapSchema } from "../../src/policy/ldap/config.ts";
import { Runtime } from "../../src/runtime.ts";
import { startSmtpListeners, type SmtpListeners } from "../../src/smtp/listener.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { makeZip } from "../helpers/clamd.ts";
import type { DnsResolver } from "../../src/filters/auth/dns.ts";
import { listMetrics, lookupList } from "../../src/filters/reputation/lookup.ts";
import { clientZoneSchema } from "../../src/filters/reputation/options.ts";

export interface FuzzTarget<T = unknown> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  check(input: T): Promise<void> | void;
  /** Inputs that once broke the target: always run first (regressions). */
  examples?: T[];
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
}

class PropertyBroken extends Error {}
const fail = (what: string): never => {
  throw new PropertyBroken(what);
};

/** Resolve within ms or fail: a parser that hangs is as broken as one that throws. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PropertyBroken(`${what}: no result within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------- bytes biased towards what breaks framing ----------

const nasty = fc.constantFrom("\r\n", "\r", "\n", ".", "..", "\r\n.\r\n", "\r\n.", "\0", " ", ":", "\t", "é");
const piece = fc.oneof(
  { weight: 4, arbitrary: nasty },
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a).toString("latin1")) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 140_000 }).map((n) => "x".repeat(n)) },
);
const text = fc.array(piece, { maxLength: 40 }).map((p) => Buffer.from(p.join(""), "latin1"));
/** The same without the long runs, for targets where each input costs a whole session. */
const shortPiece = fc.oneof(
  { weight: 40, arbitrary: fc.oneof(nasty, fc.string({ maxLength: 20 })) },
  { weight: 1, arbitrary: fc.integer({ min: 900, max: 140_000 }).map((n) => "y".repeat(n)) },
);
const shortText = fc.array(shortPiece, { maxLength: 30 }).map((p) => Buffer.from(p.join(""), "latin1"));

/** Cut points as fractions, so one arbitrary splits any buffer. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 });
function split(b: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((f) => Math.floor(f * b.length)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(b.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  out.push(b.subarray(prev));
  return out.filter((c) => c.length > 0);
}

// ---------- DATA framing against a reference model ----------

/** What DATA framing must produce: RFC 5321 4.5.2 unstuffing up to the first CRLF.CRLF. */
function referenceData(s: Buffer): { content: Buffer; rest: Buffer; bare: boolean } | null {
  let end = -1;
  for (let p = 0; p + 3 <= s.length; p++) {
    const lineStart = p === 0 || (s[p - 2] === 0x0d && s[p - 1] === 0x0a);
    if (lineStart && s[p] === 0x2e && s[p + 1] === 0x0d && s[p + 2] === 0x0a) {
      end = p;
      break;
    }
  }
  if (end === -1) return null;
  const out: number[] = [];
  let bare = false;
  for (let i = 0; i < end; i++) {
    const lineStart = i === 0 || (s[i - 2] === 0x0d && s[i - 1] === 0x0a);
    if (s[i] === 0x0a && (i === 0 || s[i - 1] !== 0x0d)) bare = true;
    if (s[i] === 0x0d && s[i + 1] !== 0x0a) bare = true;
    if (lineStart && s[i] === 0x2e) continue;
    out.push(s[i]!);
  }
  return { content: Buffer.from(out), rest: s.subarray(end + 3), bare };
}

export const dataFraming: FuzzTarget<{ data: Buffer; at: number[]; slow: number[] }> = {
  name: "smtp-data-framing",
  arbitrary: fc.record({ data: text, at: cuts, slow: fc.array(fc.nat(3), { maxLength: 8 }) }),
  async check({ data, at, slow }) {
    const socket = new PassThrough();
    const input = new SmtpInput(socket, 1000);
    const got: Buffer[] = [];
    let n = 0;
    const reading = input.readData(async (b) => {
      got.push(Buffer.from(b));
      // A consumer that sometimes yields, so bytes arrive while it is busy.
      for (let i = 0; i < (slow[n++ % Math.max(1, slow.length)] ?? 0); i++) await new Promise(setImmediate);
    });
    for (const c of split(data, at)) {
      socket.write(c);
      await new Promise(setImmediate);
    }
    socket.end();
    const res = await within(5000, "readData", reading);
    const want = referenceData(data);
    if (!want) return void (res !== null && fail("ended DATA where the reference finds no end"));
    if (!res) return fail("no end of DATA found where the reference has one");
    const content = Buffer.concat(got);
    if (!content.equals(want.content))
      fail(`content differs: ${content.length} vs ${want.content.length} bytes`);
    if (res.bareLineEnd !== want.bare) fail(`bare line end ${res.bareLineEnd}, reference ${want.bare}`);
    // Read on to the end of input (the socket may be paused for backpressure), then compare.
    await within(5000, "rest", input.peek(want.rest.length + 1));
    const rest = input.take(input.pending);
    if (!rest.equals(want.rest)) fail("bytes after the end of DATA differ");
  },
  examples: [
    // The truncation of issue #17: a >64 KiB line arriving while the consumer is busy.
    {
      data: Buffer.from("X: " + "a".repeat(200_000) + "\r\n\r\nb\r\n.\r\nQUIT\r\n"),
      at: [0.1, 0.3, 0.5],
      slow: [3],
    },
  ],
};

// ---------- SMTP sessions against a live listener ----------

const word = fc.constantFrom(
  "EHLO",
  "HELO",
  "MAIL",
  "RCPT",
  "DATA",
  "RSET",
  "NOOP",
  "QUIT",
  "VRFY",
  "HELP",
  "STARTTLS",
  "AUTH",
  "BDAT",
  "ehlo",
  "mail from:",
  "XCLIENT",
);
const arg = fc.oneof(
  fc.constantFrom(
    "client.test",
    "FROM:<a@remote.test>",
    "FROM:<>",
    "FROM:<a@remote.test> SIZE=100 BODY=8BITMIME SMTPUTF8",
    "TO:<bob@example.com>",
    "TO:<bob@example.com> NOTIFY=SUCCESS ORCPT=rfc822;bob@example.com",
    "TO:<x@elsewhere.test>",
    "TO:<ü@example.com>",
    "FROM:<" + "a".repeat(300) + "@x.test>",
    "PLAIN",
    "SIZE=abc",
    "",
  ),
  fc.string({ maxLength: 30 }),
);
const command = fc.tuple(word, arg).map(([w, a]) => `${w} ${a}`);
const body = fc.array(shortPiece, { maxLength: 12 }).map((p) => p.join(""));
const dialog = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: command.map((c) => c + "\r\n") },
      { weight: 2, arbitrary: body.map((b) => `DATA\r\nSubject: f\r\n\r\n${b}\r\n.\r\n`) },
      { weight: 1, arbitrary: body },
    ),
    { maxLength: 14 },
  )
  .map((parts) =>
    Buffer.from(
      "EHLO fuzz.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.com>\r\n" + parts.join(""),
      "latin1",
    ),
  );

let sessionHost: { runtime: Runtime; listeners: SmtpListeners; sink: SmtpSink; port: number } | null = null;

export const smtpSession: FuzzTarget<{ bytes: Buffer; at: number[] }> = {
  name: "smtp-session",
  arbitrary: fc.record({ bytes: dialog, at: cuts }),
  async setup() {
    const sink = new SmtpSink(false);
    await sink.start();
    const runtime = await Runtime.create({
      store: "never",
      logger: pino({ level: "silent" }),
      configText: `
delivery: smtp://127.0.0.1:${sink.port}
spool: { dir: /tmp/sluice-fuzz-spool }
smtp:
  hostname: mx.fuzz
  listeners: { inbound: { listen: "127.0.0.1:0" }, submission: { enabled: false }, submissions: { enabled: false } }
  limits: { max_connections_per_ip: 1000, max_line_length: 1000 }
limits: { message_bytes: 300000, header_bytes: 20000 }
policy:
  filters: { auth: { enabled: false }, spam-classifier: { enabled: false }, dkim_sign: { enabled: false } }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: bob@example.com }]
`,
    });
    const listeners = await startSmtpListeners(runtime, null, runtime.log);
    const port = Number(listeners.addresses.inbound!.split(":").pop());
    sessionHost = { runtime, listeners, sink, port };
  },
  async teardown() {
    await sessionHost?.listeners.close();
    await sessionHost?.runtime.close();
    await sessionHost?.sink.stop();
    sessionHost = null;
  },
  async check({ bytes, at }) {
    const host = sessionHost ?? fail("setup not run");
    const out = await within(
      10_000,
      "SMTP session",
      new Promise<string>((resolve, reject) => {
        const s = connect(host.port, "127.0.0.1");
        let got = "";
        s.setEncoding("latin1");
        s.on("data", (d: string) => (got += d));
        s.on("error", reject);
        s.on("close", () => resolve(got));
        s.once("connect", () => {
          for (const c of split(bytes, at)) s.write(c);
          s.end();
        });
      }),
    );
    const lines = out.split("\r\n");
    if (lines.pop() !== "") fail(`reply not ended by CRLF: ${JSON.stringify(out.slice(-80))}`);
    for (const l of lines) {
      if (!/^[2-5]\d\d[ -]/.test(l)) fail(`malformed reply line ${JSON.stringify(l.slice(0, 80))}`);
      if (/^421 4\.3\.0/.test(l))
        fail(`internal error for input ${JSON.stringify(bytes.toString("latin1").slice(0, 200))}`);
    }
    // The envelope helpers the session uses never throw on any argument.
    for (const l of bytes.toString("latin1").split("\r\n").slice(0, 4)) {
      stripPath(l);
      parseEsmtpParams(l.split(" "));
    }
  },
};

// ---------- milter codec ----------

const cmdLetter = fc.constantFrom(...Object.values(Cmd), 0x00, 0x7a, 0xff);
const packetPayload = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 6 }).map((a) => Buffer.from(a.join("\0"), "latin1")),
);
const packet = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(cmdLetter, packetPayload).map(([c, p]) => frameOf(c, p)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      mta.optneg(),
      mta.connect("h", "4", 25, "192.0.2.1"),
      mta.connect("h", "U"),
      mta.connect("h", "6", 1, "::1"),
      mta.helo("x"),
      mta.mail("<a@b>", "SIZE=1"),
      mta.rcpt("<c@d>"),
      mta.header("Subject", "x"),
      mta.eoh(),
      mta.body("b"),
      mta.eom(),
      mta.macro(Cmd.MAIL, { i: "Q" }),
      mta.unknown("X"),
    ),
  },
);
function frameOf(cmd: number, data: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(data.length + 1);
  h[4] = cmd;
  return Buffer.concat([h, data]);
}

export const milterCodec: FuzzTarget<{ packets: Buffer[]; at: number[]; lie: number | null }> = {
  name: "milter-codec",
  arbitrary: fc.record({
    packets: fc.array(packet, { maxLength: 12 }),
    at: cuts,
    lie: fc.option(fc.nat(), { nil: null }),
  }),
  check({ packets, at, lie }) {
    const stream = Buffer.concat(packets);
    // A declared length that lies (huge, zero) must be refused, not trusted.
    if (lie !== null && stream.length >= 4) stream.writeUInt32BE(lie >>> 0, 0);
    const whole: string[] = [];
    const pieces: string[] = [];
    for (const [out, chunks] of [
      [whole, [stream]],
      [pieces, split(stream, at)],
    ] as const) {
      const reader = new FrameReader();
      try {
        for (const c of chunks) {
          for (const f of reader.push(c)) {
            try {
              out.push(
                JSON.stringify(decodeCommand(f), (_k, v) => (Buffer.isBuffer(v) ? v.toString("hex") : v)),
              );
            } catch (err) {
              if (!(err instanceof ProtocolError)) throw err;
              out.push(`protocol error: ${err.reason}`);
            }
          }
        }
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        out.push(`framing error: ${err.reason}`);
      }
    }
    // Framing never depends on how TCP cut the stream: the same packets, up to a framing error
    // (packets that arrived in the same read as a broken one are dropped with the connection).
    const errorAt = (o: string[]) => o.findIndex((x) => x.startsWith("framing error"));
    const [we, pe] = [errorAt(whole), errorAt(pieces)];
    if ((we === -1) !== (pe === -1)) fail("a framing error depends on chunking");
    const a = we === -1 ? whole : whole.slice(0, we);
    const b = pe === -1 ? pieces : pieces.slice(0, pe);
    if (we === -1 ? a.join("\n") !== b.join("\n") : b.slice(0, a.length).join("\n") !== a.join("\n"))
      fail("decoding depends on chunking");
  },
};

// ---------- MIME view and attachment inspection ----------

const charset = fc.constantFrom(
  "utf-8",
  "iso-2022-jp",
  "shift_jis",
  "euc-jp",
  "koi8-r",
  "x-unknown",
  "utf-7",
  "",
);
const cte = fc.constantFrom("base64", "quoted-printable", "7bit", "8bit", "binary", "x-uuencode", "");
const leafContent = fc.oneof(
  shortText.map((b) => b.subarray(0, 4000).toString("latin1")),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString("base64")),
  fc.constant(makeZip([{ name: "a.exe", data: Buffer.from("MZ" + "x".repeat(100)) }]).toString("base64")),
  fc.tuple(fc.nat(200), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, junk]) => {
    const z = makeZip([
      { name: "in.zip", data: makeZip([{ name: "b.scr", data: Buffer.alloc(300, 1), deflate: true }]) },
    ]);
    Buffer.from(junk).copy(z, Math.min(at, z.length - 1));
    return z.toString("base64");
  }),
);
type Part = { type: string; cs: string; cte: string; name: string | null; content: string } | Part[];
const part: fc.Arbitrary<Part> = fc.letrec<{ part: Part }>((tie) => ({
  part: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({
      type: fc.constantFrom(
        "text/plain",
        "text/html",
        "application/zip",
        "application/octet-stream",
        "image/png",
        "message/rfc822",
        "x/y",
      ),
      cs: charset,
      cte,
      name: fc.option(
        fc.constantFrom("a.txt", "b.exe", "c.pdf.exe", "=?utf-8?B?w6k=?=.zip", "d\u202etxt.exe", ""),
        { nil: null },
      ),
      content: leafContent,
    }),
    fc.array(tie("part"), { maxLength: 4 }) as fc.Arbitrary<Part>,
  ),
})).part;
let boundaries = 0;
function render(p: Part): string {
  if (Array.isArray(p)) {
    const b = `b${++boundaries}`;
    return `Content-Type: multipart/mixed; boundary="${b}"\r\n\r\npreamble\r\n${p.map((x) => `--${b}\r\n${render(x)}\r\n`).join("")}--${b}--\r\n`;
  }
  const name = p.name === null ? "" : `; name="${p.name}"`;
  const disp = p.name === null ? "" : `Content-Disposition: attachment; filename="${p.name}"\r\n`;
  return `Content-Type: ${p.type}; charset=${p.cs}${name}\r\n${disp}Content-Transfer-Encoding: ${p.cte}\r\n\r\n${p.content}`;
}

export const mimeView: FuzzTarget<{ root: Part; noise: Buffer; at: number[] }> = {
  name: "mime-and-attachments",
  arbitrary: fc.record({ root: part, noise: shortText, at: cuts }),
  async check({ root, noise, at }) {
    const raw = Buffer.concat([
      Buffer.from(`From: a@x.test\r\nSubject: =?utf-8?q?f=C3=A9?=\r\n${render(root)}`, "latin1"),
      noise,
    ]);
    const view = await within(
      10_000,
      "parseMime",
      parseMime(Readable.from(split(raw, at)), { maxTextChars: 10_000 }),
    );
    if (view.text.length > 10_000 || (view.html?.length ?? 0) > 10_000) fail("text over the limit");
    const facts = await within(
      10_000,
      "inspectAttachments",
      inspectAttachments(Readable.from(split(raw, at)), {
        maxInspectBytes: 1_000_000,
        depthCap: 3,
        budgetBytes: 1_000_000,
      }),
    );
    for (const f of facts) if (f.size < 0) fail("negative attachment size");
  },
};

export const zipInspection: FuzzTarget<{
  entries: { name: string; data: Uint8Array; deflate: boolean }[];
  flips: [number, number][];
}> = {
  name: "zip-inspection",
  arbitrary: fc.record({
    entries: fc.array(
      fc.record({
        name: fc.string({ maxLength: 12 }),
        data: fc.uint8Array({ maxLength: 300 }),
        deflate: fc.boolean(),
      }),
      {
        maxLength: 4,
      },
    ),
    flips: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
  }),
  async check({ entries, flips }) {
    const z = makeZip(entries.map((e) => ({ ...e, data: Buffer.from(e.data) })));
    for (const [at, v] of flips) z[at % z.length] = v;
    const facts = await within(
      5000,
      "inspectZip",
      inspectZip(z, "f.zip", { depthCap: 3, budgetBytes: 100_000, maxEntries: 100 }, isExecutable),
    );
    if (facts.depth < 1) fail("depth below 1");
  },
};

// ---------- Sieve ----------

const SIEVE_WORDS = [
  "require",
  '["fileinto","variables","regex","relational","editheader","date","index","body","envelope","copy","imap4flags","subaddress","comparator-i;ascii-numeric"]',
  "if",
  "elsif",
  "else",
  "allof",
  "anyof",
  "not",
  "true",
  "false",
  "header",
  "address",
  "envelope",
  "exists",
  "size",
  "body",
  "string",
  "date",
  "currentdate",
  "set",
  "fileinto",
  "redirect",
  "keep",
  "discard",
  "stop",
  "reject",
  "addheader",
  "deleteheader",
  "addflag",
  ":is",
  ":contains",
  ":matches",
  ":regex",
  ":value",
  ":count",
  ":comparator",
  ":index",
  ":last",
  ":over",
  ":under",
  ":lower",
  ":upper",
  ":length",
  ":quotewildcard",
  ":domain",
  ":localpart",
  ":all",
  ":copy",
  ":text",
  ":raw",
  '"i;ascii-numeric"',
  '"i;octet"',
  '"gt"',
  '"subject"',
  '"from"',
  '"to"',
  '"*a*"',
  '"${1}"',
  '"${x}"',
  '"x"',
  '"(a|b)*"',
  '"((a+)+)+$"',
  '"year"',
  '"[\\\\"',
  '"${"',
  "1",
  "10K",
  "0",
  "99999999999999999999",
  "[",
  "]",
  "(",
  ")",
  "{",
  "}",
  ",",
  ";",
  ";",
  "text:\nline\n..\n.\n",
  "# c\n",
  "/* c */",
];
const sieveSource = fc.array(
  fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...SIEVE_WORDS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  ),
  {
    maxLength: 40,
  },
);
const sieveMessage = fc
  .tuple(fc.string({ maxLength: 30 }), body)
  .map(
    ([subj, b]) =>
      `From: <a@x.test>\r\nTo: <bob+tag@example.com>\r\nSubject: ${subj}\r\nDate: Fri, 4 Dec 2026 10:00:00 +0900\r\n\r\n${b}\r\n`,
  );

export const sieve: FuzzTarget<{ words: string[]; message: string }> = {
  name: "sieve",
  arbitrary: fc.record({ words: sieveSource, message: sieveMessage }),
  check({ words, message }) {
    let script;
    try {
      script = compileSieve(words.join(" "));
    } catch (err) {
      if (err instanceof SieveCompileError) return;
      throw err;
    }
    try {
      runSieve(script, fakeEnv(message));
    } catch (err) {
      if (!(err instanceof SieveRuntimeError)) throw err;
    }
  },
};

// ---------- configuration loader ----------

const registry = new FilterRegistry(builtinFilters({}));
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    "example.com",
    "a@example.com",
    "smtp://127.0.0.1:25",
    "maildir:/tmp/x",
    "127.0.0.1:0",
    "inet:127.0.0.1:1",
    "reject",
    "strip",
    "tempfail",
  ),
);
const KEYS = [
  "node",
  "store",
  "smtp",
  "limits",
  "policy",
  "tenants",
  "delivery",
  "milter",
  "spool",
  "log",
  "directory",
  "roles",
  "filters",
  "thresholds",
  "tag",
  "quarantine",
  "reject",
  "listeners",
  "inbound",
  "listen",
  "id",
  "domains",
  "users",
  "address",
  "type",
  "url",
  "line_bytes",
  "nul_bytes",
  "min_data_rate",
  "enabled",
  "options",
  "sieve",
  "virus",
  "clamd",
  "scores",
  "lists",
  "web",
];
const yamlValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    scalar,
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie("v"), { maxKeys: 4 }),
  ),
})).v;

export const configLoader: FuzzTarget<{ doc: Record<string, unknown>; junk: string | null }> = {
  name: "config-loader",
  arbitrary: fc.record({
    doc: fc.dictionary(fc.constantFrom(...KEYS), yamlValue, { maxKeys: 6 }),
    junk: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
  }),
  // An alias without its anchor threw a ReferenceError instead of a ConfigError.
  examples: [
    { doc: {}, junk: "*!" },
    { doc: {}, junk: "a: &x [1]\nb: [*x, *x, *y]" },
  ],
  check({ doc, junk }) {
    const textIn = junk ?? stringify(doc);
    try {
      parseConfig(textIn, "fuzz.yaml", registry);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const i of err.issues) if (!i.message) fail("config issue without a message");
    }
  },
};

// ---------- LDAP entries ----------

const MAP = attributeMapSchema.parse({});
const attrName = fc.constantFrom(...Object.values(MAP), "MAIL", "Mail", "dn", "objectClass", "x");
const attrValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    "alice@example.com",
    " Bob@Example.COM ",
    "TRUE",
    "false",
    "ja",
    "-3.5",
    "1e9",
    "NaN",
    "*@x.test",
    "x.test",
    "@",
    "",
  ),
  fc.uint8Array({ maxLength: 10 }).map((a) => Buffer.from(a)),
);
export const ldapEntries: FuzzTarget<Record<string, unknown>> = {
  name: "ldap-entry",
  arbitrary: fc.dictionary(attrName, fc.oneof(attrValue, fc.array(attrValue, { maxLength: 4 })), {
    maxKeys: 8,
  }),
  check(entry) {
    const e = { dn: "uid=x,dc=example,dc=com", ...entry } as Parameters<typeof entryToUser>[0];
    const m = entryToUser(e, MAP, "example");
    if (!m) return;
    const u = m.user;
    const addr = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
    if (!addr.test(u.address) || u.address !== u.address.toLowerCase()) fail(`bad address ${u.address}`);
    for (const a of [...u.aliases, ...u.sendAs]) if (!addr.test(a)) fail(`bad alias ${a}`);
    for (const t of Object.values(u.thresholds)) if (!Number.isFinite(t)) fail("threshold not finite");
    if (u.language !== null && u.language !== "en" && u.language !== "ja") fail("bad language");
    if (typeof u.id !== "string" || !u.id) fail("no id");
  },
  // An attribute named "dn" replaced the DN string: the id was an array.
  examples: [{ mail: ["alice@example.com"], dn: [] }],
};

// DNS list answers (src/filters/reputation/): whatever a zone answers — any records for A, any
// TXT — the lookup gives a result, never a throw; a listing only for a 127/8 code that is no
// refusal; reason text short and printable.
const dnsRecord = fc.oneof(
  fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join(".")),
  fc.constantFrom("127.255.255.254", "127.0.0.1", "127.0.0.2", "127.0.1.255"),
  fc.ipV4(),
  fc.ipV6(),
  fc.string({ maxLength: 30 }),
  fc.anything(),
);
const dnsZone = fc.record({
  codes: fc.dictionary(
    fc.oneof(
      fc.constantFrom("127.0.0.2", "127.0.0.0/24", "127.0.*.3", "127.0.1.0/24"),
      fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `127.0.${a}.${b}`),
    ),
    fc.constantFrom("RBL_A", "RBL_B"),
    { maxKeys: 4 },
  ),
  bits: fc.dictionary(fc.constantFrom("2", "4", "8", "64"), fc.constantFrom("URI_A", "URI_B"), {
    maxKeys: 3,
  }),
  txt: fc.boolean(),
});
const dnsMetrics = listMetrics();
const dnsLog = pino({ level: "silent" });
export const dnsListAnswers: FuzzTarget<{
  zone: { codes: Record<string, string>; bits: Record<string, string>; txt: boolean };
  a: unknown[];
  txt: unknown;
}> = {
  name: "dns-list-answer",
  arbitrary: fc.record({
    zone: dnsZone,
    a: fc.array(dnsRecord, { maxLength: 40 }),
    txt: fc.oneof(
      fc.array(fc.array(fc.string({ unit: "binary", maxLength: 300 }), { maxLength: 40 })),
      fc.anything(),
    ),
  }),
  async check({ zone, a, txt }) {
    const z = clientZoneSchema.parse({ zone: "zen.fuzz", symbol: "RBL_ZEN", score: 1, ...zone });
    const resolver = {
      peek: () => null,
      lookup: async (_name: string, type: string) => (type === "TXT" ? txt : a),
    } as unknown as DnsResolver;
    const r = await lookupList(resolver, "2.0.0.127", z, dnsMetrics, dnsLog);
    for (const h of r.hits) {
      if (!h.code.startsWith("127.") || h.code.startsWith("127.255.255.") || h.code === "127.0.0.1")
        fail(`listing from ${h.code}`);
    }
    if (r.status === "listed" && r.hits.length === 0) fail("listed without a hit");
    if (r.reason !== undefined && !/^[\x20-\x7e]{1,200}$/.test(r.reason)) fail(`bad reason ${r.reason}`);
  },
};

export const TARGETS: FuzzTarget<never>[] = [
  dataFraming,
  smtpSession,
  milterCodec,
  mimeView,
  zipInspection,
  sieve,
  configLoader,
  ldapEntries,
  dnsListAnswers,
] as unknown as FuzzTarget<never>[];

/** Run one target: fast-check with a seed, a number of runs and/or a time limit. */
export async function runTarget(
  t: FuzzTarget<never>,
  o: { runs: number; seed: number; timeLimitMs?: number; onProgress?: (n: number) => void },
): Promise<{ runs: number; failure: string | null; ms: number }> {
  let n = 0;
  const t0 = performance.now();
  await t.setup?.();
  try {
    const property = fc.asyncProperty(t.arbitrary, async (input) => {
      n++;
      if (o.onProgress && n % 10_000 === 0) o.onProgress(n);
      await t.check(input);
    });
    const res = await fc.check(property, {
      numRuns: o.runs,
      seed: o.seed,
      examples: (t.examples ?? []).map((e) => [e] as [never]),
      ...(o.timeLimitMs ? { interruptAfterTimeLimit: o.timeLimitMs, markInterruptAsFailure: false } : {}),
    });
    const failure = res.failed ? (fc.defaultReportMessage(res) ?? "failed") : null;
    return { runs: res.numRuns, failure, ms: performance.now() - t0 };
  } finally {
    await t.teardown?.();
  }
}
