// Versioned schema of the SQLite store. Append new steps; never edit a shipped one.

export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: users, lists, quarantine, hold queue, message log
  `
  CREATE TABLE users (
    address TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    language TEXT,
    spam_filter INTEGER,
    thresholds TEXT NOT NULL DEFAULT '{}',
    send_as TEXT NOT NULL DEFAULT '[]',
    password_hash TEXT
  );
  CREATE INDEX users_tenant ON users(tenant);
  CREATE TABLE user_aliases (
    alias TEXT PRIMARY KEY,
    address TEXT NOT NULL REFERENCES users(address) ON DELETE CASCADE
  );
  CREATE TABLE user_lists (
    address TEXT NOT NULL REFERENCES users(address) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('whitelist','blacklist')),
    position INTEGER NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (address, kind, position)
  );
  CREATE TABLE quarantine (
    id TEXT PRIMARY KEY,
    tenant TEXT,
    created_at INTEGER NOT NULL,
    envelope TEXT NOT NULL,
    score REAL NOT NULL,
    symbols TEXT NOT NULL,
    subject TEXT,
    size INTEGER NOT NULL,
    message BLOB NOT NULL
  );
  CREATE INDEX quarantine_tenant ON quarantine(tenant, created_at);
  CREATE TABLE quarantine_rcpt (
    id TEXT NOT NULL REFERENCES quarantine(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (id, address)
  );
  CREATE INDEX quarantine_rcpt_address ON quarantine_rcpt(address, state);
  CREATE TABLE hold (
    id TEXT PRIMARY KEY,
    tenant TEXT,
    created_at INTEGER NOT NULL,
    release_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    envelope TEXT NOT NULL,
    size INTEGER NOT NULL,
    message BLOB NOT NULL
  );
  CREATE INDEX hold_due ON hold(state, release_at);
  CREATE TABLE message_log (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    tenant TEXT,
    ingress TEXT NOT NULL,
    client_address TEXT NOT NULL,
    sender TEXT NOT NULL,
    subject TEXT,
    size INTEGER NOT NULL,
    recipients TEXT NOT NULL
  );
  CREATE INDEX message_log_at ON message_log(at);
  CREATE INDEX message_log_tenant ON message_log(tenant, at);
  CREATE TABLE message_log_rcpt (
    id TEXT NOT NULL REFERENCES message_log(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    PRIMARY KEY (id, address)
  );
  CREATE INDEX message_log_rcpt_address ON message_log_rcpt(address);
  `,
  // 2: release claims (exactly-once release), hold approval and notice marks, single-use
  // tokens, job cursors
  `
  ALTER TABLE quarantine_rcpt ADD COLUMN release_key TEXT;
  ALTER TABLE hold ADD COLUMN release_key TEXT;
  ALTER TABLE hold ADD COLUMN approver TEXT;
  ALTER TABLE hold ADD COLUMN approved_by TEXT;
  ALTER TABLE hold ADD COLUMN notice_sent_at INTEGER;
  CREATE TABLE release_claim (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('quarantine','hold')),
    item_id TEXT NOT NULL,
    recipients TEXT NOT NULL,
    actor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('claimed','delivered','done')),
    accepted TEXT NOT NULL DEFAULT '[]',
    failed TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX release_claim_open ON release_claim(state);
  CREATE TABLE once_token (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
  CREATE TABLE job_cursor (name TEXT PRIMARY KEY, at INTEGER NOT NULL);
  `,
  // 3: web console accounts, sessions and the audit log
  `
  CREATE TABLE console_account (
    login TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('operator','tenant_admin')),
    tenant TEXT,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE web_session (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    role TEXT NOT NULL,
    tenant TEXT,
    csrf TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX web_session_expiry ON web_session(expires_at);
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    tenant TEXT,
    before TEXT,
    after TEXT
  );
  CREATE INDEX audit_log_tenant ON audit_log(tenant, seq);
  `,
  // 4: cluster configuration revisions and node heartbeats (src/cluster/)
  `
  CREATE TABLE config_revision (
    rev INTEGER PRIMARY KEY AUTOINCREMENT,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    author TEXT NOT NULL,
    note TEXT,
    rollback_of INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX config_revision_role ON config_revision(role, rev);
  CREATE TABLE node_heartbeat (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    version TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at INTEGER NOT NULL,
    applied_rev INTEGER,
    health TEXT NOT NULL,
    failed_rev INTEGER,
    error TEXT
  );
  `,
  // 5: DKIM signing keys, private key sealed by the caller (src/filters/auth/key-store.ts)
  `
  CREATE TABLE dkim_key (
    domain TEXT NOT NULL,
    selector TEXT NOT NULL,
    tenant TEXT,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    sealed_key BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (domain, selector)
  );
  CREATE INDEX dkim_key_tenant ON dkim_key(tenant, domain);
  `,
  // 6: shadow rollout of candidate configurations and their per-recipient differences (src/cluster/)
  `
  CREATE TABLE config_shadow (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    author TEXT NOT NULL,
    note TEXT,
    nodes TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running','published','discarded')),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE shadow_count (
    shadow_id INTEGER NOT NULL REFERENCES config_shadow(id) ON DELETE CASCADE,
    node TEXT NOT NULL,
    evaluated INTEGER NOT NULL,
    PRIMARY KEY (shadow_id, node)
  );
  CREATE TABLE shadow_diff (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    shadow_id INTEGER NOT NULL REFERENCES config_shadow(id) ON DELETE CASCADE,
    node TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    live_action TEXT NOT NULL,
    shadow_action TEXT NOT NULL
  );
  CREATE INDEX shadow_diff_run ON shadow_diff(shadow_id, seq);
  `,
  // 7: each quarantined recipient keeps its own filter results (who may release depends on them)
  `
  ALTER TABLE quarantine_rcpt ADD COLUMN score REAL;
  ALTER TABLE quarantine_rcpt ADD COLUMN symbols TEXT;
  `,
  // 8: greylisting triplets and client passes, rate-limit counters (src/filters/reputation/)
  `
  CREATE TABLE greylist_triplet (
    tenant TEXT NOT NULL,
    network TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    passed_at INTEGER,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (tenant, network, sender, recipient)
  ) WITHOUT ROWID;
  CREATE TABLE greylist_client (
    tenant TEXT NOT NULL,
    network TEXT NOT NULL,
    passes INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (tenant, network)
  ) WITHOUT ROWID;
  CREATE TABLE rate_counter (
    key TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
  ) WITHOUT ROWID;
  CREATE INDEX rate_counter_window ON rate_counter(window_start);
  `,
  // 9: spam classifier lessons and the model revisions compacted from them (src/filters/spam/learning.ts)
  `
  CREATE TABLE spam_lesson (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    tenant TEXT,
    label TEXT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT,
    recipient TEXT,
    sender TEXT,
    hash TEXT NOT NULL,
    tokenizer INTEGER NOT NULL,
    features BLOB NOT NULL,
    disagrees INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX spam_lesson_once ON spam_lesson(scope, hash, label);
  CREATE INDEX spam_lesson_scope ON spam_lesson(scope, id);
  CREATE INDEX spam_lesson_recipient ON spam_lesson(recipient, created_at);
  CREATE INDEX spam_lesson_actor ON spam_lesson(actor, created_at);
  CREATE TABLE spam_model (
    rev INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    model BLOB NOT NULL,
    lessons_upto INTEGER NOT NULL,
    author TEXT NOT NULL,
    note TEXT,
    rollback_of INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX spam_model_scope ON spam_model(scope, rev);
  `,
  // 10: per-user overrides of directory users (the portal), the quarantine's sender for search
  `
  CREATE TABLE user_overrides (
    address TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    spam_filter INTEGER,
    language TEXT,
    whitelist TEXT,
    blacklist TEXT,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX user_overrides_tenant ON user_overrides(tenant);
  ALTER TABLE quarantine ADD COLUMN sender TEXT NOT NULL DEFAULT '';
  UPDATE quarantine SET sender = lower(coalesce(json_extract(envelope, '$.mailFrom.address'), ''));
  `,
];
