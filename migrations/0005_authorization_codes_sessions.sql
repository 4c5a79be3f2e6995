-- Browser sign-in: where /authorize may send users back, authorization codes, and SSO sessions.
-- See docs/storage.md.

-- Exact redirect URIs, browser origins and logout URLs of each client (JSON arrays).
ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN web_origins TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN allowed_logout_urls TEXT NOT NULL DEFAULT '[]';

CREATE TABLE sessions (
  session_id          TEXT PRIMARY KEY,                -- 256-bit random, base64url
  user_id             TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  auth_time           INTEGER NOT NULL,                -- when the user last entered a password
  created_at          INTEGER NOT NULL,
  idle_expires_at     INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE authorization_codes (
  code_hash      TEXT PRIMARY KEY,                     -- SHA-256 of the code, base64url
  client_id      TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  user_id        TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  redirect_uri   TEXT NOT NULL,
  code_challenge TEXT,                                 -- S256 only; NULL = none was sent
  nonce          TEXT,
  scope          TEXT NOT NULL,
  audience       TEXT,
  org_id         TEXT,
  session_id     TEXT,
  auth_time      INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  used_at        INTEGER,                              -- set once, by the redemption
  family_id      TEXT                                  -- the refresh family issued from it
);

-- The algorithm of each API's access tokens: ES256, or RS256 for verifiers that need RSA.
ALTER TABLE apis ADD COLUMN signing_alg TEXT NOT NULL DEFAULT 'ES256'
  CHECK (signing_alg IN ('ES256', 'RS256'));
