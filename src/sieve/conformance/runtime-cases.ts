// Run-time agreement with Pigeonhole: scripts whose results show as fileinto folders, run on the same
// message by Sluice and by sieve-test (pigeonhole.test.ts). Facts of RFC 5703 part order and views,
// RFC 6609 globals and return, RFC 5463 ihave, RFC 5435 :encodeurl. Known difference left out:
// extracttext :first counts characters of the charset-decoded text here, octets in Pigeonhole 0.5.

export interface RuntimeCase {
  name: string;
  script: string;
  message: string;
  personal?: Record<string, string>;
}

const NESTED = [
  "From: a@example.org",
  "To: b@example.org",
  "Subject: nested",
  "Content-Type: multipart/mixed; boundary=AA",
  "X-Test: AA",
  "",
  "preamble",
  "--AA",
  "Content-Type: multipart/alternative; boundary=BB",
  "X-Test: BB",
  "",
  "--BB",
  "Content-Type: text/plain; charset=iso-8859-1",
  "Content-Transfer-Encoding: quoted-printable",
  "X-Test: CC",
  "",
  "Hello=20there, CONFIDENTIAL text",
  "--BB",
  "Content-Type: text/html",
  "X-Test: DD",
  "",
  "<p>html</p>",
  "--BB--",
  "--AA",
  'Content-Type: application/pdf; name="report 2024.pdf"',
  "Content-Disposition: attachment;",
  " filename*0*=utf-8''report%20;",
  ' filename*1="2024.pdf"',
  "X-Test: EE",
  "",
  "JVBERi0=",
  "--AA--",
  "",
].join("\r\n");

const FORWARDED = [
  "From: a@example.org",
  "To: b@example.org",
  "Subject: fwd",
  "Content-Type: multipart/mixed; boundary=X",
  "",
  "--X",
  "Content-Type: text/plain",
  "",
  "see below",
  "--X",
  "Content-Type: message/rfc822",
  "",
  "From: inner@example.net",
  "Subject: =?utf-8?q?inner_=E2=9C=93?=",
  "Content-Type: multipart/mixed; boundary=Y",
  "",
  "--Y",
  "Content-Type: text/plain",
  "",
  "inner text",
  "--Y",
  'Content-Type: application/octet-stream; name="tool.exe"',
  "",
  "TVo=",
  "--Y--",
  "--X--",
  "",
].join("\r\n");

export const RUNTIME_CASES: RuntimeCase[] = [
  {
    name: "message/rfc822 parts are opened",
    message: FORWARDED,
    script: `require ["foreverypart", "mime", "fileinto", "variables"];
foreverypart {
  if header :mime :matches "Subject" "*" { fileinto "subject-\${1}"; }
  if header :mime :contenttype :matches "Content-Type" "*" { fileinto "type-\${1}"; }
  if header :mime :param "name" :matches "Content-Type" "*.exe" { fileinto "exe"; }
}
if address :mime :anychild :domain "From" "example.net" { fileinto "inner-from"; }`,
  },
  {
    name: "editheader edits are seen by later tests",
    message: FORWARDED,
    script: `require ["editheader", "mime", "fileinto"];
addheader "X-New" "1";
if header "X-New" "1" { fileinto "sees-edit"; }
deleteheader "Subject";
if not exists "Subject" { fileinto "subject-gone"; }`,
  },
  {
    name: "foreverypart order and nesting",
    message: NESTED,
    script: `require ["foreverypart", "mime", "fileinto", "variables"];
foreverypart {
  if header :mime :matches "X-Test" "*" { set "outer" "\${1}"; fileinto "outer-\${outer}"; }
  foreverypart { if header :mime :matches "X-Test" "*" { fileinto "inner-\${outer}-\${1}"; } }
}`,
  },
  {
    name: "structured views and :anychild",
    message: NESTED,
    script: `require ["mime", "fileinto", "variables"];
if header :mime :type "Content-Type" "multipart" { fileinto "root-multipart"; }
if header :mime :anychild :subtype "Content-Type" "html" { fileinto "has-html"; }
if header :mime :anychild :param "filename" :matches "Content-Disposition" "*" { fileinto "file-\${1}"; }
if header :mime :anychild :param "charset" "Content-Type" "ISO-8859-1" { fileinto "latin1"; }
if header :mime :anychild :type "Content-Disposition" "attachment" { fileinto "attachment"; }
if exists :mime :anychild "Content-Transfer-Encoding" { fileinto "has-cte"; }
if not exists :mime "Content-Transfer-Encoding" { fileinto "root-no-cte"; }`,
  },
  {
    name: "break and break :name",
    message: NESTED,
    script: `require ["foreverypart", "mime", "fileinto", "variables"];
foreverypart :name "outer" {
  if header :mime :matches "X-Test" "*" { fileinto "seen-\${1}"; }
  foreverypart { if header :mime "X-Test" "DD" { break :name "outer"; } }
}
foreverypart { if header :mime "X-Test" "CC" { fileinto "cc"; break; } fileinto "before-cc"; }`,
  },
  {
    name: "extracttext",
    message: NESTED,
    script: `require ["foreverypart", "mime", "fileinto", "variables", "extracttext"];
foreverypart {
  if header :mime :contenttype "Content-Type" "text/plain" {
    extracttext :first 7 "start";
    extracttext :upper "all";
    fileinto "start-\${start}";
    if string :contains "\${all}" "CONFIDENTIAL" { fileinto "confidential"; }
  }
}`,
  },
  {
    name: "include, globals and return",
    message: NESTED,
    personal: {
      child: `require ["include", "variables", "fileinto"];
global "g";
set "local" "child";
set "g" "\${g}+child";
fileinto "in-child";
return;
fileinto "after-return";`,
    },
    script: `require ["include", "variables", "fileinto"];
global "g";
set "g" "main";
set "local" "main";
include "child";
include :once "child";
fileinto "\${g}-\${local}";`,
  },
  {
    name: "ihave and :encodeurl",
    message: NESTED,
    script: `require ["ihave", "variables", "enotify", "fileinto"];
if ihave "fileinto" { fileinto "has-fileinto"; }
if ihave "nonexistent-extension" { fileinto "impossible"; } else { fileinto "no-such-extension"; }
set :encodeurl "u" "a b&c/d";
fileinto "\${u}";`,
  },
];
