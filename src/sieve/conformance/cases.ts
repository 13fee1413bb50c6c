// Compile-time agreement with Pigeonhole (Dovecot's Sieve, 0.5.x): scripts it compiles and scripts it
// refuses, for the extensions both implement. Facts observed with sievec and from the intent of its
// test suite, written as our own cases. Used by conformance.test.ts (ours) and pigeonhole.test.ts
// (sievec itself, when installed).

export interface ConformanceCase {
  name: string;
  script: string;
  /** What Pigeonhole (and so Sluice) does with the script. */
  expect: "accept" | "refuse";
  /** Scripts include :personal / :global may name. */
  personal?: Record<string, string>;
  global?: Record<string, string>;
}

const big = (n: number) => "a".repeat(n);

// Left out on purpose: "deleteheader :last" without :index, which Pigeonhole reports as an error yet
// still compiles (exit 0); Sluice refuses it.
export const CASES: ConformanceCase[] = [
  // redirect (RFC 5228 4.2): a mailbox, display name and comments allowed.
  { name: "redirect plain", script: 'redirect "stephan@example.org";', expect: "accept" },
  {
    name: "redirect display name",
    script: 'redirect "Stephan Bosch <stephan@example.org>";',
    expect: "accept",
  },
  {
    name: "redirect quoted name",
    script: 'redirect "\\"Stephan Bosch\\" <stephan@example.org>";',
    expect: "accept",
  },
  { name: "redirect whitespace", script: 'redirect "  stephan@example.org ";', expect: "accept" },
  { name: "redirect angle only", script: 'redirect "<stephan@example.org>";', expect: "accept" },
  { name: "redirect comment", script: 'redirect "stephan@example.org (Stephan)";', expect: "accept" },
  { name: "redirect no domain", script: 'redirect "stephan";', expect: "refuse" },
  { name: "redirect words", script: 'redirect "not an address";', expect: "refuse" },
  { name: "redirect two", script: 'redirect "a@example.org, b@example.org";', expect: "refuse" },
  { name: "redirect group", script: 'redirect "undisclosed: stephan@example.org;";', expect: "refuse" },
  // Header names (RFC 5228 2.4.2.2): invalid ones only warn.
  { name: "header invalid name", script: 'if header :contains "a b" "x" { keep; }', expect: "accept" },
  { name: "exists invalid name", script: 'if exists "a:b" { keep; }', expect: "accept" },
  {
    name: "date invalid name",
    script: 'require "date"; if date :is "a b" "year" "2020" { keep; }',
    expect: "accept",
  },
  { name: "address non-address header", script: 'if address :is "subject" "x" { keep; }', expect: "refuse" },
  {
    name: "address computed header",
    script: 'require "variables"; set "h" "subject"; if address :is "${h}" "x" { keep; }',
    expect: "accept",
  },
  {
    name: "header :index 0",
    script: 'require "index"; if header :index 0 "X-A" "x" { keep; }',
    expect: "refuse",
  },
  {
    name: "header :last alone",
    script: 'require "index"; if header :last "X-A" "x" { keep; }',
    expect: "refuse",
  },
  // editheader (RFC 5293) with Pigeonhole's default limits.
  {
    name: "addheader 2048 bytes",
    script: `require "editheader"; addheader "X-A" "${big(2048)}";`,
    expect: "accept",
  },
  {
    name: "addheader 2049 bytes",
    script: `require "editheader"; addheader "X-A" "${big(2049)}";`,
    expect: "refuse",
  },
  {
    name: "addheader NUL",
    script: 'require ["editheader", "encoded-character"]; addheader "X-A" "a${hex:00}b";',
    expect: "refuse",
  },
  { name: "addheader line break", script: 'require "editheader"; addheader "X-A" "a\nb";', expect: "accept" },
  { name: "addheader empty value", script: 'require "editheader"; addheader "X-A" "";', expect: "accept" },
  {
    name: "addheader long name",
    script: `require "editheader"; addheader "X-${big(3000)}" "x";`,
    expect: "accept",
  },
  { name: "addheader empty name", script: 'require "editheader"; addheader "" "x";', expect: "accept" },
  { name: "addheader bad name", script: 'require "editheader"; addheader "X A" "x";', expect: "refuse" },
  { name: "addheader Received", script: 'require "editheader"; addheader "Received" "x";', expect: "accept" },
  {
    name: "deleteheader Received",
    script: 'require "editheader"; deleteheader "Received";',
    expect: "accept",
  },
  {
    name: "deleteheader auto-submitted",
    script: 'require "editheader"; deleteheader "auto-submitted";',
    expect: "accept",
  },
  { name: "deleteheader bad name", script: 'require "editheader"; deleteheader "X A";', expect: "refuse" },
  {
    name: "deleteheader :index 0",
    script: 'require "editheader"; deleteheader :index 0 "X-A";',
    expect: "accept",
  },
  // mime (RFC 5703 4).
  {
    name: "mime :type",
    script: 'require "mime"; if header :mime :type "Content-Type" "text" { keep; }',
    expect: "accept",
  },
  {
    name: "mime without require",
    script: 'if header :mime :type "Content-Type" "text" { keep; }',
    expect: "refuse",
  },
  {
    name: "mime :anychild",
    script: 'require "mime"; if header :mime :anychild :subtype "Content-Type" "plain" { keep; }',
    expect: "accept",
  },
  {
    name: "mime :param",
    script:
      'require "mime"; if header :mime :param ["filename","name"] "Content-Disposition" "*.exe" { keep; }',
    expect: "accept",
  },
  {
    name: "mime :contenttype",
    script: 'require "mime"; if header :mime :contenttype "Content-Type" "text/plain" { keep; }',
    expect: "accept",
  },
  {
    name: "mime alone",
    script: 'require "mime"; if header :mime "Content-Type" "text/plain" { keep; }',
    expect: "accept",
  },
  {
    name: "mime :type on Subject",
    script: 'require "mime"; if header :mime :type "Subject" "x" { keep; }',
    expect: "accept",
  },
  {
    name: "mime :param without :mime",
    script: 'require "mime"; if header :param "filename" "Content-Disposition" "x" { keep; }',
    expect: "refuse",
  },
  {
    name: "mime :anychild without :mime",
    script: 'require "mime"; if header :anychild "Content-Type" "x" { keep; }',
    expect: "refuse",
  },
  {
    name: "mime :type without :mime",
    script: 'require "mime"; if header :type "Content-Type" "x" { keep; }',
    expect: "refuse",
  },
  {
    name: "mime two options",
    script: 'require "mime"; if header :mime :type :subtype "Content-Type" "x" { keep; }',
    expect: "refuse",
  },
  {
    name: "exists :mime :anychild",
    script: 'require "mime"; if exists :mime :anychild "Content-Type" { keep; }',
    expect: "accept",
  },
  {
    name: "exists :mime :type",
    script: 'require "mime"; if exists :mime :type "Content-Type" { keep; }',
    expect: "refuse",
  },
  {
    name: "address :mime",
    script: 'require "mime"; if address :mime :anychild :domain "from" "example.org" { keep; }',
    expect: "accept",
  },
  {
    name: "address :mime :type",
    script: 'require "mime"; if address :mime :type "from" "x" { keep; }',
    expect: "refuse",
  },
  // foreverypart and extracttext (RFC 5703 3, 7).
  { name: "foreverypart", script: 'require "foreverypart"; foreverypart { keep; }', expect: "accept" },
  { name: "foreverypart without require", script: "foreverypart { keep; }", expect: "refuse" },
  {
    name: "foreverypart named break",
    script: 'require "foreverypart"; foreverypart :name "a" { foreverypart :name "b" { break :name "a"; } }',
    expect: "accept",
  },
  { name: "break outside loop", script: 'require "foreverypart"; break;', expect: "refuse" },
  {
    name: "break unknown name",
    script: 'require "foreverypart"; foreverypart :name "a" { break :name "b"; }',
    expect: "refuse",
  },
  {
    name: "foreverypart same name nested",
    script: 'require "foreverypart"; foreverypart :name "a" { foreverypart :name "a" { break; } }',
    expect: "accept",
  },
  {
    name: "foreverypart needs mime for :mime",
    script: 'require "foreverypart"; foreverypart { if header :mime :type "Content-Type" "x" { keep; } }',
    expect: "refuse",
  },
  {
    name: "foreverypart 4 deep",
    script:
      'require "foreverypart"; foreverypart { foreverypart { foreverypart { foreverypart { keep; } } } }',
    expect: "accept",
  },
  {
    name: "foreverypart 5 deep",
    script:
      'require "foreverypart"; foreverypart { foreverypart { foreverypart { foreverypart { foreverypart { keep; } } } } }',
    expect: "refuse",
  },
  {
    name: "extracttext",
    script:
      'require ["extracttext","variables","foreverypart"]; foreverypart { extracttext :lower :first 10 "t"; }',
    expect: "accept",
  },
  {
    name: "extracttext outside loop",
    script: 'require ["extracttext","variables","foreverypart"]; extracttext "t";',
    expect: "refuse",
  },
  {
    name: "extracttext bad name",
    script: 'require ["extracttext","variables","foreverypart"]; foreverypart { extracttext "t-x"; }',
    expect: "refuse",
  },
  {
    name: "extracttext match variable",
    script: 'require ["extracttext","variables","foreverypart"]; foreverypart { extracttext "1"; }',
    expect: "refuse",
  },
  {
    name: "extracttext without variables",
    script: 'require ["extracttext","foreverypart"]; foreverypart { extracttext "t"; }',
    expect: "refuse",
  },
  {
    name: "extracttext without foreverypart",
    script: 'require ["extracttext","variables"]; extracttext "t";',
    expect: "refuse",
  },
  // enotify with mailto (RFC 5435, 5436).
  { name: "notify", script: 'require "enotify"; notify "mailto:a@example.org";', expect: "accept" },
  {
    name: "notify all tags",
    script:
      'require "enotify"; notify :from "b@example.org" :importance "1" :options ["x=y"] :message "hi" "mailto:a@example.org?subject=hi";',
    expect: "accept",
  },
  {
    name: "notify importance 4",
    script: 'require "enotify"; notify :importance "4" "mailto:a@example.org";',
    expect: "refuse",
  },
  {
    name: "notify importance variable",
    script: 'require ["enotify","variables"]; set "i" "1"; notify :importance "${i}" "mailto:a@example.org";',
    expect: "refuse",
  },
  {
    name: "notify other method",
    script: 'require "enotify"; notify "xmpp:a@example.org";',
    expect: "refuse",
  },
  { name: "notify no recipients", script: 'require "enotify"; notify "mailto:";', expect: "accept" },
  { name: "notify bad recipient", script: 'require "enotify"; notify "mailto:a@@b";', expect: "refuse" },
  { name: "notify not a URI", script: 'require "enotify"; notify "not a uri";', expect: "refuse" },
  {
    name: "notify bad :from",
    script: 'require "enotify"; notify :from "not an address" "mailto:a@example.org";',
    expect: "refuse",
  },
  {
    name: "notify :from display name",
    script: 'require "enotify"; notify :from "Me <me@example.org>" "mailto:a@example.org";',
    expect: "accept",
  },
  {
    name: "notify bad option",
    script: 'require "enotify"; notify :options "xy" "mailto:a@example.org";',
    expect: "refuse",
  },
  {
    name: "notify comma in to",
    script: 'require "enotify"; notify "mailto:a@example.org,b@example.org";',
    expect: "refuse",
  },
  {
    name: "notify to= and cc=",
    script: 'require "enotify"; notify "mailto:a@example.org?to=b@example.org&cc=c@example.org&body=x";',
    expect: "accept",
  },
  {
    name: "notify reserved from=",
    script: 'require "enotify"; notify "mailto:a@example.org?from=b@example.org";',
    expect: "accept",
  },
  {
    name: "notify bad % encoding",
    script: 'require "enotify"; notify "mailto:a@example.org?subject=%ZZ";',
    expect: "refuse",
  },
  {
    name: "notify CRLF in subject",
    script: 'require "enotify"; notify "mailto:a@example.org?subject=a%0D%0Ab";',
    expect: "refuse",
  },
  {
    name: "notify bad field name",
    script: 'require "enotify"; notify "mailto:a@example.org?x%20y=1";',
    expect: "refuse",
  },
  {
    name: "notify twice :message",
    script: 'require "enotify"; notify :message "a" :message "b" "mailto:a@example.org";',
    expect: "refuse",
  },
  { name: "notify no method", script: 'require "enotify"; notify :message "a";', expect: "refuse" },
  {
    name: "valid_notify_method",
    script: 'require "enotify"; if valid_notify_method "mailto:a@example.org" { keep; }',
    expect: "accept",
  },
  {
    name: "notify_method_capability",
    script: 'require "enotify"; if notify_method_capability "mailto:a@example.org" "online" "yes" { keep; }',
    expect: "accept",
  },
  {
    name: "encodeurl",
    script: 'require ["enotify","variables"]; set :encodeurl "y" "x"; notify "mailto:${y}@example.org";',
    expect: "accept",
  },
  {
    name: "encodeurl without enotify",
    script: 'require ["variables"]; set :encodeurl "y" "x";',
    expect: "refuse",
  },
  // include (RFC 6609).
  {
    name: "include personal and global",
    script: 'require "include"; include :global "common"; include :personal "inc";',
    expect: "accept",
    global: { common: "keep;" },
    personal: { inc: 'require "include"; return;' },
  },
  { name: "include missing", script: 'require "include"; include :personal "nothere";', expect: "refuse" },
  {
    name: "include :optional missing",
    script: 'require "include"; include :optional "missing";',
    expect: "accept",
  },
  { name: "include bad name", script: 'require "include"; include "a/b";', expect: "refuse" },
  {
    name: "include variable name",
    script: 'require ["include","variables"]; set "n" "inc"; include :personal "${n}";',
    expect: "refuse",
    personal: { inc: "keep;" },
  },
  {
    name: "include :once",
    script: 'require "include"; include :once :personal "ret"; include :once "ret";',
    expect: "accept",
    personal: { ret: 'require "include"; return;' },
  },
  {
    name: "include both locations",
    script: 'require "include"; include :global :personal "ret";',
    expect: "refuse",
    personal: { ret: "keep;" },
    global: { ret: "keep;" },
  },
  {
    name: "include loop",
    script: 'require "include"; include :personal "loop1";',
    expect: "refuse",
    personal: {
      loop1: 'require "include";\ninclude :personal "loop2";',
      loop2: 'require "include";\ninclude :personal "loop1";',
    },
  },
  {
    name: "include broken script",
    script: 'require "include"; include :personal "broken";',
    expect: "refuse",
    personal: { broken: 'require "include";\nkeep\n' },
  },
  { name: "return in main script", script: 'require "include"; return;', expect: "accept" },
  { name: "return without require", script: "return;", expect: "refuse" },
  {
    name: "global",
    script: 'require ["include","variables"]; global "x"; set "x" "2"; set "global.y" "1";',
    expect: "accept",
  },
  { name: "global without variables", script: 'require ["include"]; global "x";', expect: "refuse" },
  {
    name: "global after commands",
    script: 'require ["include","variables"]; keep; global "x";',
    expect: "accept",
  },
  {
    name: "global in a block",
    script: 'require ["include","variables"]; if true { global "a"; }',
    expect: "accept",
  },
  { name: "global list", script: 'require ["include","variables"]; global ["a","b"];', expect: "accept" },
  { name: "global bad name", script: 'require ["include","variables"]; global "x-y";', expect: "refuse" },
  { name: "set unknown namespace", script: 'require ["variables"]; set "foo.x" "1";', expect: "refuse" },
  // Dead code: the block of a test that is always false is not checked (Pigeonhole drops it).
  { name: "if false block unchecked", script: "if false { frobnicate; }", expect: "accept" },
  { name: "if not true block unchecked", script: 'if not true { fileinto "x"; }', expect: "accept" },
  { name: "anyof false block unchecked", script: 'if anyof (false) { fileinto "x"; }', expect: "accept" },
  { name: "else of if false checked", script: 'if false { keep; } else { fileinto "x"; }', expect: "refuse" },
  // extracttext cannot be required alone (RFC 5703 5).
  {
    name: "extracttext without foreverypart required",
    script: 'require ["variables", "extracttext"]; keep;',
    expect: "refuse",
  },
  {
    name: "extracttext without variables required",
    script: 'require ["foreverypart", "extracttext"]; keep;',
    expect: "refuse",
  },
  // ihave and error (RFC 5463).
  { name: "ihave known", script: 'require "ihave"; if ihave "fileinto" { fileinto "x"; }', expect: "accept" },
  {
    name: "ihave unknown guards block",
    script: 'require "ihave"; if ihave ["nope"] { nope "x"; } else { keep; }',
    expect: "accept",
  },
  {
    name: "ihave unknown outside block",
    script: 'require "ihave"; if ihave ["nope"] { keep; } nope;',
    expect: "refuse",
  },
  { name: "ihave without require", script: 'if ihave "fileinto" { keep; }', expect: "refuse" },
  {
    name: "ihave variable",
    script: 'require ["ihave","variables"]; set "x" "fileinto"; if ihave "${x}" { keep; }',
    expect: "accept",
  },
  {
    name: "ihave nested block",
    script: 'require "ihave"; if ihave "nope" { if true { nope; } }',
    expect: "accept",
  },
  {
    name: "ihave inside anyof",
    script: 'require "ihave"; if anyof(ihave "nope", true) { nope; }',
    expect: "refuse",
  },
  { name: "ihave block syntax error", script: 'require "ihave"; if ihave "nope" { nope }', expect: "refuse" },
  {
    name: "ihave known, bad use",
    script: 'require "ihave"; if ihave "fileinto" { fileinto; }',
    expect: "refuse",
  },
  {
    name: "ihave elsif not guarded",
    script: 'require "ihave"; if ihave "nope" { keep; } elsif true { nope; }',
    expect: "refuse",
  },
  {
    name: "ihave enables enotify checks",
    script: 'require "ihave"; if ihave "enotify" { notify "xmpp:a@example.org"; }',
    expect: "refuse",
  },
  { name: "error", script: 'require "ihave"; error "no";', expect: "accept" },
  { name: "error without require", script: 'error "no";', expect: "refuse" },
];
