-- miltertest script (Debian `miltertest`) driving Sluice's milter server as an MTA would.
-- Run by milter-miltertest.test.ts with -D port=PORT; any error() fails the test.

local function check(ok, what)
  if not ok then error("FAILED: " .. what) end
  mt.echo("ok: " .. what)
end

local function step(err, what, want)
  check(err == nil, what .. " sent (" .. tostring(err) .. ")")
  local got = mt.getreply(conn)
  check(got == want, what .. " reply " .. tostring(got) .. " want " .. tostring(want))
end

-- No EOH packet at all when the milter negotiated SMFIP_NOEOH (the first body chunk ends the headers).
local function eoh(what)
  if not mt.test_option(conn, SMFIP_NOEOH) then check(mt.eoh(conn) == nil, what) end
end

-- Body chunks get a reply only if the milter did not negotiate SMFIP_NR_BODY.
local function body(str, what)
  check(mt.bodystring(conn, str) == nil, what .. " sent")
  if not mt.test_option(conn, SMFIP_NR_BODY) then
    check(mt.getreply(conn) == SMFIR_CONTINUE, what .. " reply")
  end
end

conn = mt.connect("inet:" .. port .. "@127.0.0.1")
check(conn ~= nil, "connect")

-- Negotiation: offer libmilter's current maximum, as Sendmail does.
check(mt.negotiate(conn, 6, nil, nil) == nil, "negotiate")
check(mt.test_action(conn, SMFIF_ADDHDRS), "asks for ADDHDRS")
check(mt.test_action(conn, SMFIF_CHGHDRS), "asks for CHGHDRS")
check(mt.test_action(conn, SMFIF_ADDRCPT), "asks for ADDRCPT")
check(mt.test_action(conn, SMFIF_DELRCPT), "asks for DELRCPT")
check(mt.test_action(conn, SMFIF_QUARANTINE), "asks for QUARANTINE")
check(not mt.test_action(conn, SMFIF_CHGBODY), "does not ask for CHGBODY")
check(not mt.test_option(conn, SMFIP_NOCONNECT), "wants CONNECT")
check(not mt.test_option(conn, SMFIP_NOHDRS), "wants headers")
check(not mt.test_option(conn, SMFIP_NOBODY), "wants the body")
check(mt.test_option(conn, SMFIP_NR_HDR), "no replies to headers (NR_HDR)")
check(mt.test_option(conn, SMFIP_NR_BODY), "no replies to body chunks (NR_BODY)")
check(mt.test_option(conn, SMFIP_NOEOH), "no EOH packet (NOEOH)")
-- Over TCP DATA is sent and answered: the reply acknowledges the DATA macro packet at once, so
-- the MTA's next write is not held by Nagle until a delayed ACK (negotiation.ts forTcp).
check(not mt.test_option(conn, SMFIP_NODATA), "DATA is sent over TCP (no NODATA)")
check(not mt.test_option(conn, SMFIP_NR_DATA), "DATA waits for a reply over TCP (no NR_DATA)")
-- This server is not told the configuration: every envelope stage is answered.
check(not mt.test_option(conn, SMFIP_NR_RCPT), "waits for replies to RCPT")

mt.macro(conn, SMFIC_CONNECT, "j", "mx.sluice.test", "{client_addr}", "192.0.2.9", "{daemon_name}", "test")
step(mt.conninfo(conn, "client.test", "192.0.2.9"), "conninfo", SMFIR_CONTINUE)
step(mt.helo(conn, "client.test"), "helo", SMFIR_CONTINUE)

-- Message 1: recipient checks, header edits, recipient edits.
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice", "i", "Q1")
step(mt.mailfrom(conn, "<a@sender.test>", "SIZE=100"), "mailfrom", SMFIR_CONTINUE)
step(mt.rcptto(conn, "<reject@rcpt.test>"), "rcptto reject@", SMFIR_REPLYCODE)
step(mt.rcptto(conn, "<b@rcpt.test>"), "rcptto b@", SMFIR_CONTINUE)
step(mt.rcptto(conn, "<gone@rcpt.test>"), "rcptto gone@", SMFIR_CONTINUE)
step(mt.data(conn), "data", SMFIR_CONTINUE)
check(mt.header(conn, "From", "a@sender.test") == nil, "header From")
check(mt.header(conn, "Subject", "first") == nil, "header Subject")
check(mt.header(conn, "X-Drop", "secret") == nil, "header X-Drop")
eoh("eoh")
body("Hello.\r\n", "body")
step(mt.eom(conn), "eom", SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_HDRADD, "X-Sluice"), "X-Sluice added")
check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"), "Authentication-Results inserted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Drop"), "X-Drop deleted")
check(mt.eom_check(conn, MT_RCPTADD, "<archive@archive.test>"), "bcc added")
check(mt.eom_check(conn, MT_RCPTDELETE, "<gone@rcpt.test>"), "discarded recipient deleted")

-- Message 2: rejected at end of message with our reply.
step(mt.mailfrom(conn, "<a@sender.test>"), "mailfrom 2", SMFIR_CONTINUE)
step(mt.rcptto(conn, "<b@rcpt.test>"), "rcptto 2", SMFIR_CONTINUE)
check(mt.header(conn, "Subject", "REJECT") == nil, "header 2")
eoh("eoh 2")
body("x\r\n", "body 2")
step(mt.eom(conn), "eom 2", SMFIR_REPLYCODE)
check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", "Rejected by policy"), "reply 550 5.7.1")

-- Message 3: wholly quarantined, quarantine_mode "mta" → SMFIR_QUARANTINE.
step(mt.mailfrom(conn, "<a@sender.test>"), "mailfrom 3", SMFIR_CONTINUE)
step(mt.rcptto(conn, "<b@rcpt.test>"), "rcptto 3", SMFIR_CONTINUE)
check(mt.header(conn, "Subject", "QUARANTINE") == nil, "header 3")
eoh("eoh 3")
body("x\r\n", "body 3")
step(mt.eom(conn), "eom 3", SMFIR_CONTINUE)
check(mt.eom_check(conn, MT_QUARANTINE, "spam"), "quarantined with reason")

-- Message 4 is aborted; message 5 still works on the same connection.
step(mt.mailfrom(conn, "<a@sender.test>"), "mailfrom 4", SMFIR_CONTINUE)
step(mt.rcptto(conn, "<b@rcpt.test>"), "rcptto 4", SMFIR_CONTINUE)
check(mt.header(conn, "Subject", "aborted") == nil, "header 4")
check(mt.abort(conn) == nil, "abort")
step(mt.mailfrom(conn, "<a@sender.test>"), "mailfrom 5", SMFIR_CONTINUE)
step(mt.rcptto(conn, "<b@rcpt.test>"), "rcptto 5", SMFIR_CONTINUE)
check(mt.header(conn, "Subject", "fifth") == nil, "header 5")
eoh("eoh 5")
body("five\r\n", "body 5")
step(mt.eom(conn), "eom 5", SMFIR_CONTINUE)

mt.disconnect(conn)
mt.echo("all checks passed")
