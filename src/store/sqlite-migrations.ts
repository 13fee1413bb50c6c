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
];
