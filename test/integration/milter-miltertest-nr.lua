-- miltertest script: what the milter negotiates follows the configuration, and a recipient
-- refusal stays correct when RCPT was negotiated as no-reply (SMFIP_NR_RCPT) and a filter at
-- RCPT appeared later. Run by milter-miltertest.test.ts with -D port=PORT -D phase=before|after.

local function check(ok, what)
  if not ok then error("FAILED: " .. what) end
  mt.echo("ok: " .. what)
end

-- A command whose reply the milter negotiated away gets none; otherwise it must be `want`.
local function step(err, what, flag, want)
  check(err == nil, what .. " sent (" .. tostring(err) .. ")")
  if flag ~= nil and mt.test_option(conn, flag) then return end
  local got = mt.getreply(conn)
  check(got == want, what .. " reply " .. tostring(got) .. " want " .. tostring(want))
end

local function message(rcpts, subject)
  step(mt.mailfrom(conn, "<a@sender.test>"), "mailfrom", SMFIP_NR_MAIL, SMFIR_CONTINUE)
  for _, r in ipairs(rcpts) do
    local want = SMFIR_CONTINUE
    if r:find("^<reject@") then want = SMFIR_REPLYCODE end
    step(mt.rcptto(conn, r), "rcptto " .. r, SMFIP_NR_RCPT, want)
  end
  check(mt.header(conn, "Subject", subject) == nil, "header " .. subject)
  check(mt.bodystring(conn, "body\r\n") == nil, "body " .. subject)
  check(mt.eom(conn) == nil, "eom " .. subject)
end

conn = mt.connect("inet:" .. port .. "@127.0.0.1")
check(conn ~= nil, "connect")
check(mt.negotiate(conn, 6, nil, nil) == nil, "negotiate")
check(mt.test_option(conn, SMFIP_NR_CONN), "no reply to CONNECT")
check(mt.test_option(conn, SMFIP_NR_HELO), "no reply to HELO")
check(mt.test_option(conn, SMFIP_NR_MAIL), "no reply to MAIL")
check(not mt.test_option(conn, SMFIP_NOCONNECT), "CONNECT still sent")
check(not mt.test_option(conn, SMFIP_NOMAIL), "MAIL still sent")
check(not mt.test_option(conn, SMFIP_NORCPT), "RCPT still sent")

step(mt.conninfo(conn, "client.test", "192.0.2.9"), "conninfo", SMFIP_NR_CONN, SMFIR_CONTINUE)
step(mt.helo(conn, "client.test"), "helo", SMFIP_NR_HELO, SMFIR_CONTINUE)

if phase == "before" then
  -- Negotiated when nothing could refuse a recipient; the session now does.
  check(mt.test_option(conn, SMFIP_NR_RCPT), "no reply to RCPT")
  message({ "<reject@rcpt.test>" }, "only a refused recipient")
  check(mt.getreply(conn) == SMFIR_REPLYCODE, "refused at end of message")
  check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.1.1", "unknown"), "with the recipient's reply")
  message({ "<b@rcpt.test>", "<reject@rcpt.test>" }, "one refused of two")
  check(mt.getreply(conn) == SMFIR_REPLYCODE, "mixed: refused at end of message")
  check(
    mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0", "Recipient policy changed during the session, try again later"),
    "mixed: retry later (451 4.3.0)"
  )
  message({ "<b@rcpt.test>" }, "accepted")
  check(mt.getreply(conn) == SMFIR_CONTINUE, "clean message accepted")
  check(mt.eom_check(conn, MT_HDRADD, "X-Sluice"), "and edited")
else
  -- Negotiated after the configuration gained a filter at RCPT: RCPT waits for its reply again.
  check(not mt.test_option(conn, SMFIP_NR_RCPT), "waits for replies to RCPT")
  message({ "<reject@rcpt.test>", "<b@rcpt.test>" }, "refused at RCPT")
  check(mt.getreply(conn) == SMFIR_CONTINUE, "the other recipient's message accepted")
end

mt.disconnect(conn)
mt.echo("all checks passed")
