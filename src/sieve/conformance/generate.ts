// A small grammar of Sieve scripts over the extensions Sluice and Pigeonhole share, for differential
// testing against sievec (pigeonhole.test.ts): structurally plausible scripts with the mistakes
// authors make (missing require, wrong tag combinations, bad names and addresses). Leaves out the
// one known difference (deleteheader :last without :index, see cases.ts).
import fc from "fast-check";

const EXTENSIONS = [
  "fileinto",
  "envelope",
  "variables",
  "relational",
  "comparator-i;ascii-numeric",
  "editheader",
  "mime",
  "foreverypart",
  "extracttext",
  "enotify",
  "ihave",
  "body",
  "imap4flags",
  "copy",
  "subaddress",
  "index",
  "reject",
  "include",
  "date",
  "encoded-character",
];

const str = fc.constantFrom(
  '"x"',
  '"Subject"',
  '"a b"',
  '"From"',
  '""',
  '"Content-Type"',
  '"*.exe"',
  '"${1}"',
);
const list = fc.oneof(
  str,
  fc.array(str, { minLength: 1, maxLength: 3 }).map((a) => `[${a.join(", ")}]`),
);
const addr = fc.constantFrom(
  '"a@example.org"',
  '"Name <a@example.org>"',
  '"a"',
  '"a@example.org, b@example.org"',
  '" a@example.org "',
);
const match = fc.constantFrom(
  "",
  ":is",
  ":contains",
  ":matches",
  ':value "gt"',
  ':count "eq"',
  ':value "xx"',
);
const comparator = fc.constantFrom(
  "",
  "",
  ':comparator "i;octet"',
  ':comparator "i;ascii-numeric"',
  ':comparator "x"',
);
const mimeTags = fc.constantFrom(
  "",
  "",
  ":mime",
  ":mime :anychild",
  ":mime :type",
  ":anychild",
  ':mime :param "name"',
  ":mime :type :subtype",
);
const part = fc.constantFrom("", ":domain", ":localpart", ":user", ":detail", ":all");

const test: fc.Arbitrary<string> = fc.letrec<{ t: string }>((tie) => ({
  t: fc.oneof(
    { depthSize: "small" },
    fc.tuple(match, comparator, mimeTags, list, list).map((p) => `header ${p.join(" ")}`),
    fc.tuple(mimeTags, list).map(([m, l]) => `exists ${m} ${l}`),
    fc.tuple(part, match, list, list).map((p) => `address ${p.join(" ")}`),
    fc
      .tuple(part, match, fc.constantFrom('"from"', '"to"', '"x"'), list)
      .map((p) => `envelope ${p.join(" ")}`),
    fc.constantFrom("size :over 100K", "size :under 1", "size 1", "true", "false"),
    fc.tuple(match, list, list).map(([m, a, b]) => `string ${m} ${a} ${b}`),
    fc
      .tuple(fc.constantFrom("", ":raw", ":text", ':content "text"'), match, list)
      .map((p) => `body ${p.join(" ")}`),
    fc.constantFrom('ihave "fileinto"', 'ihave "nope"', 'valid_notify_method "mailto:a@example.org"'),
    fc.constantFrom(
      'date :is "date" "year" "2024"',
      'date :value "ge" :comparator "i;ascii-numeric" "date" "hour" "12"',
      'currentdate :is "weekday" "0"',
      'date :is "date" "nonsense" "x"',
      'date :index 1 :is "received" "year" "2024"',
      'date :zone "+0100" :is "date" "hour" "1"',
      'date :originalzone :zone "+0100" :is "date" "hour" "1"',
      'notify_method_capability "mailto:a@example.org" "online" "maybe"',
      'string :is "${hex:41}" "A"',
    ),
    tie("t").map((t) => `not ${t}`),
    fc.array(tie("t"), { minLength: 1, maxLength: 2 }).map((ts) => `anyof (${ts.join(", ")})`),
  ),
})).t;

const command: fc.Arbitrary<string> = fc.letrec<{ c: string }>((tie) => ({
  c: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(
      "keep;",
      "discard;",
      "stop;",
      'fileinto "x";',
      'fileinto :copy "x";',
      'addflag "\\\\Seen";',
      'error "x";',
      'reject "no";',
    ),
    addr.map((a) => `redirect ${a};`),
    fc
      .tuple(
        fc.constantFrom("", ":lower", ":encodeurl", ":length :upper"),
        fc.constantFrom('"v"', '"1"', '"a-b"', '"global.x"'),
      )
      .map(([m, n]) => `set ${m} ${n} "value";`),
    fc
      .tuple(
        fc.constantFrom("", ":last"),
        fc.constantFrom('"X-A"', '"Received"', '"X A"', '""'),
        fc.constantFrom('"v"', `"${"a".repeat(2100)}"`),
      )
      .map(([t, n, v]) => `addheader ${t} ${n} ${v};`),
    fc
      .tuple(
        fc.constantFrom("", ":index 1", ":index 0", ":index 2 :last"),
        fc.constantFrom('"X-A"', '"auto-submitted"', '"X A"'),
      )
      .map(([t, n]) => `deleteheader ${t} ${n};`),
    fc.constantFrom("break;", 'break :name "a";', 'extracttext "t";', 'extracttext :first 10 "t";'),
    fc.constantFrom(
      'include :optional "none";',
      'include :once :optional :global "none";',
      "return;",
      'global "g";',
      'global ["g", "h-i"];',
      'set "global.g" "1";',
      'notify :from "me@example.org" :options "k=v" "mailto:a@example.org";',
      'notify "mailto:${1}";',
      'redirect :copy "a@example.org";',
    ),
    fc.constantFrom(
      'notify "mailto:a@example.org";',
      'notify :importance "4" "mailto:a@example.org";',
      'notify "xmpp:a@example.org";',
      'notify :message "m" "mailto:a@example.org?subject=%41";',
    ),
    fc.tuple(test, fc.array(tie("c"), { maxLength: 2 })).map(([t, cs]) => `if ${t} { ${cs.join(" ")} }`),
    fc
      .tuple(fc.constantFrom("", ':name "a"'), fc.array(tie("c"), { maxLength: 2 }))
      .map(([n, cs]) => `foreverypart ${n} { ${cs.join(" ")} }`),
  ),
})).c;

export const generatedScript: fc.Arbitrary<string> = fc
  .tuple(fc.subarray(EXTENSIONS), fc.array(command, { minLength: 1, maxLength: 4 }))
  .map(([req, cmds]) => (req.length ? `require ${JSON.stringify(req)};\n` : "") + cmds.join("\n") + "\n");
