-- Users, brute-force counters, refresh tokens, and per-client token settings. See docs/storage.md.

CREATE TABLE users (
  user_id        TEXT PRIMARY KEY,                     -- '<provider>|<id>', the stable sub
  connection     TEXT NOT NULL,                        -- the user directory (Auth0 realm)
  email          TEXT,
  email_verified INTEGER NOT NULL DEFAULT 0,
  name           TEXT,
  given_name     TEXT,
  family_name    TEXT,
  nickname       TEXT,
  picture        TEXT,
  user_metadata  TEXT NOT NULL DEFAULT '{}',           -- JSON object, user-editable
  app_metadata   TEXT NOT NULL DEFAULT '{}',           -- JSON object, tenant-only
  blocked        INTEGER NOT NULL DEFAULT 0,
  password_hash  TEXT,                                 -- '$pbkdf2-sha256$i=…' or imported bcrypt
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  last_login     INTEGER,
  logins_count   INTEGER NOT NULL DEFAULT 0
);

-- Emails are unique per connection, compared case-insensitively (ASCII).
CREATE UNIQUE INDEX users_connection_email ON users (connection, lower(email));

-- Failed password attempts per (connection + email, IP) in a sliding window.
CREATE TABLE login_failures (
  user_key     TEXT NOT NULL,                          -- connection, newline, lower-cased email
  ip           TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  failures     INTEGER NOT NULL,
  locked_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_key, ip)
);

CREATE TABLE refresh_tokens (
  token_hash          TEXT PRIMARY KEY,                -- base64url(SHA-256(token)); never the token
  family_id           TEXT NOT NULL,
  client_id           TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  user_id             TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  audience            TEXT,
  scope               TEXT NOT NULL,
  auth_time           INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  idle_expires_at     INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  used_at             INTEGER,
  revoked_at          INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

ALTER TABLE clients ADD COLUMN refresh_absolute_lifetime INTEGER NOT NULL DEFAULT 2592000;
ALTER TABLE clients ADD COLUMN refresh_idle_lifetime INTEGER NOT NULL DEFAULT 1296000;
ALTER TABLE clients ADD COLUMN refresh_reuse_interval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256'
  CHECK (id_token_signed_response_alg IN ('ES256', 'RS256'));
