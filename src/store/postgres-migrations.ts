// Versioned schema of the PostgreSQL store (the cluster backend). Append new steps; never edit
// a shipped one. Same tables and meaning as sqlite-migrations.ts, in PostgreSQL types
// (timestamptz, jsonb, bytea); step numbers need not match SQLite's.

export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: users, lists, quarantine, hold queue, message log, release claims, tokens, cursors,
  // console accounts/sessions/audit, configuration revisions and node heartbeats
  `
  CREATE TABLE users (
    address text PRIMARY KEY,
    id text NOT NULL,
    tenant text NOT NULL,
    language text,
    spam_filter boolean,
    thresholds jsonb NOT NULL DEFAULT '{}',
    send_as jsonb NOT NULL DEFAULT '[]',
    password_hash text
  );
  CREATE INDEX users_tenant ON users(tenant);
  CREATE TABLE user_aliases (
    alias text PRIMARY KEY,
    address text NOT NULL REFERENCES users(address) ON DELETE CASCADE
  );
  CREATE TABLE user_lists (
    address text NOT NULL REFERENCES users(address) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('whitelist','blacklist')),
    position integer NOT NULL,
    entry text NOT NULL,
    PRIMARY KEY (address, kind, position)
  );
  CREATE TABLE quarantine (
    id text PRIMARY KEY,
    tenant text,
    created_at timestamptz NOT NULL,
    envelope jsonb NOT NULL,
    score double precision NOT NULL,
    symbols jsonb NOT NULL,
    subject text,
    size integer NOT NULL,
    message bytea NOT NULL
  );
  CREATE INDEX quarantine_tenant ON quarantine(tenant, created_at);
  CREATE INDEX quarantine_created ON quarantine(created_at);
  CREATE TABLE quarantine_rcpt (
    id text NOT NULL REFERENCES quarantine(id) ON DELETE CASCADE,
    address text NOT NULL,
    state text NOT NULL,
    reason text NOT NULL,
    updated_at timestamptz NOT NULL,
    release_key text,
    PRIMARY KEY (id, address)
  );
  CREATE INDEX quarantine_rcpt_address ON quarantine_rcpt(address, state);
  CREATE TABLE hold (
    id text PRIMARY KEY,
    tenant text,
    created_at timestamptz NOT NULL,
    release_at timestamptz NOT NULL,
    state text NOT NULL,
    reason text NOT NULL,
    envelope jsonb NOT NULL,
    size integer NOT NULL,
    message bytea NOT NULL,
    release_key text,
    approver text,
    approved_by text,
    notice_sent_at timestamptz
  );
  CREATE INDEX hold_due ON hold(state, release_at);
  CREATE TABLE message_log (
    id text PRIMARY KEY,
    at timestamptz NOT NULL,
    tenant text,
    ingress text NOT NULL,
    client_address text NOT NULL,
    sender text NOT NULL,
    subject text,
    size integer NOT NULL,
    recipients jsonb NOT NULL
  );
  CREATE INDEX message_log_at ON message_log(at);
  CREATE INDEX message_log_tenant ON message_log(tenant, at);
  CREATE INDEX message_log_sender ON message_log(sender, at);
  CREATE TABLE message_log_rcpt (
    id text NOT NULL REFERENCES message_log(id) ON DELETE CASCADE,
    address text NOT NULL,
    PRIMARY KEY (id, address)
  );
  CREATE INDEX message_log_rcpt_address ON message_log_rcpt(address);
  CREATE TABLE release_claim (
    key text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('quarantine','hold')),
    item_id text NOT NULL,
    recipients jsonb NOT NULL,
    actor text NOT NULL,
    state text NOT NULL CHECK (state IN ('claimed','delivered','done')),
    accepted jsonb NOT NULL DEFAULT '[]',
    failed jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
  );
  CREATE INDEX release_claim_open ON release_claim(state) WHERE state <> 'done';
  CREATE TABLE once_token (key text PRIMARY KEY, expires_at timestamptz NOT NULL);
  CREATE TABLE job_cursor (name text PRIMARY KEY, at timestamptz NOT NULL);
  CREATE TABLE console_account (
    login text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('operator','tenant_admin')),
    tenant text,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE TABLE web_session (
    id text PRIMARY KEY,
    subject text NOT NULL,
    role text NOT NULL,
    tenant text,
    csrf text NOT NULL,
    expires_at timestamptz NOT NULL
  );
  CREATE INDEX web_session_expiry ON web_session(expires_at);
  CREATE TABLE audit_log (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    tenant text,
    before jsonb,
    after jsonb
  );
  CREATE INDEX audit_log_tenant ON audit_log(tenant, seq);
  CREATE TABLE config_revision (
    rev integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role text NOT NULL,
    text text NOT NULL,
    author text NOT NULL,
    note text,
    rollback_of integer,
    created_at timestamptz NOT NULL
  );
  CREATE INDEX config_revision_role ON config_revision(role, rev);
  CREATE TABLE node_heartbeat (
    name text PRIMARY KEY,
    role text NOT NULL,
    version text NOT NULL,
    started_at timestamptz NOT NULL,
    seen_at timestamptz NOT NULL,
    applied_rev integer,
    health text NOT NULL,
    failed_rev integer,
    error text
  );
  `,
  // 2: DKIM signing keys, private key sealed by the caller (src/filters/auth/key-store.ts)
  `
  CREATE TABLE dkim_key (
    domain text NOT NULL,
    selector text NOT NULL,
    tenant text,
    algorithm text NOT NULL,
    public_key text NOT NULL,
    sealed_key bytea NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (domain, selector)
  );
  CREATE INDEX dkim_key_tenant ON dkim_key(tenant, domain);
  `,
  // 3: shadow rollout of candidate configurations and their per-recipient differences (src/cluster/)
  `
  CREATE TABLE config_shadow (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role text NOT NULL,
    text text NOT NULL,
    author text NOT NULL,
    note text,
    nodes jsonb NOT NULL,
    state text NOT NULL CHECK (state IN ('running','published','discarded')),
    created_at timestamptz NOT NULL
  );
  CREATE TABLE shadow_count (
    shadow_id integer NOT NULL REFERENCES config_shadow(id) ON DELETE CASCADE,
    node text NOT NULL,
    evaluated integer NOT NULL,
    PRIMARY KEY (shadow_id, node)
  );
  CREATE TABLE shadow_diff (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shadow_id integer NOT NULL REFERENCES config_shadow(id) ON DELETE CASCADE,
    node text NOT NULL,
    message_id text NOT NULL,
    at timestamptz NOT NULL,
    sender text NOT NULL,
    recipient text NOT NULL,
    live_action text NOT NULL,
    shadow_action text NOT NULL
  );
  CREATE INDEX shadow_diff_run ON shadow_diff(shadow_id, seq);
  `,
  // 4: each quarantined recipient keeps its own filter results (who may release depends on them)
  `
  ALTER TABLE quarantine_rcpt ADD COLUMN score double precision;
  ALTER TABLE quarantine_rcpt ADD COLUMN symbols jsonb;
  `,
  // 5: greylisting triplets and client passes, rate-limit counters (src/filters/reputation/).
  // The counters are UNLOGGED: no WAL, so an increment commits without a flush; they are soft
  // state (lost after a crash, not replicated), which only resets the current window.
  `
  CREATE TABLE greylist_triplet (
    tenant text NOT NULL,
    network text NOT NULL,
    sender text NOT NULL,
    recipient text NOT NULL,
    first_seen timestamptz NOT NULL,
    passed_at timestamptz,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (tenant, network, sender, recipient)
  );
  CREATE TABLE greylist_client (
    tenant text NOT NULL,
    network text NOT NULL,
    passes integer NOT NULL,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (tenant, network)
  );
  CREATE UNLOGGED TABLE rate_counter (
    key text NOT NULL,
    window_start bigint NOT NULL,
    count integer NOT NULL,
    PRIMARY KEY (key, window_start)
  ) WITH (fillfactor = 70);
  CREATE INDEX rate_counter_window ON rate_counter(window_start);
  `,
  // 6: spam classifier lessons and the model revisions compacted from them (src/filters/spam/learning.ts)
  `
  CREATE TABLE spam_lesson (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope text NOT NULL,
    tenant text,
    label text NOT NULL,
    source text NOT NULL,
    actor text,
    recipient text,
    sender text,
    hash text NOT NULL,
    tokenizer integer NOT NULL,
    features bytea NOT NULL,
    disagrees boolean NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE UNIQUE INDEX spam_lesson_once ON spam_lesson(scope, hash, label);
  CREATE INDEX spam_lesson_scope ON spam_lesson(scope, id);
  CREATE INDEX spam_lesson_recipient ON spam_lesson(recipient, created_at);
  CREATE INDEX spam_lesson_actor ON spam_lesson(actor, created_at);
  CREATE TABLE spam_model (
    rev integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope text NOT NULL,
    model bytea NOT NULL,
    lessons_upto bigint NOT NULL,
    author text NOT NULL,
    note text,
    rollback_of integer,
    created_at timestamptz NOT NULL
  );
  CREATE INDEX spam_model_scope ON spam_model(scope, rev);
  `,
  // 7: per-user overrides of directory users (the portal), the quarantine's sender for search
  `
  CREATE TABLE user_overrides (
    address text PRIMARY KEY,
    tenant text NOT NULL,
    spam_filter boolean,
    language text,
    whitelist jsonb,
    blacklist jsonb,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
  );
  CREATE INDEX user_overrides_tenant ON user_overrides(tenant);
  ALTER TABLE quarantine ADD COLUMN sender text NOT NULL DEFAULT '';
  UPDATE quarantine SET sender = lower(coalesce(envelope->'mailFrom'->>'address', ''));
  `,
];
