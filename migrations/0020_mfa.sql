-- Second factors (Auth0's Guardian): the factors users may enroll, when a sign-in asks for
-- one, each user's authenticators and recovery codes, and the MFA tokens already redeemed.
-- See docs/storage.md.

-- The factors, by Auth0's names; all off as shipped.
CREATE TABLE guardian_factors (
  name    TEXT PRIMARY KEY,
  enabled INTEGER NOT NULL DEFAULT 0
);
INSERT INTO guardian_factors (name) VALUES
  ('otp'), ('recovery-code'), ('webauthn-roaming'), ('webauthn-platform');

-- Auth0's /api/v2/guardian/policies: '' (only users who enrolled are asked for a factor) or
-- 'all-applications' (every user, who enrolls at the next sign-in).
CREATE TABLE guardian_policy (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  policy TEXT NOT NULL DEFAULT ''
);
INSERT INTO guardian_policy (id) VALUES (1);

-- A user's authenticators; id as Auth0's ('totp|dev_' and 16 letters or digits). A TOTP
-- secret is sealed under the key-encryption key with the id as associated data; last_step is
-- the last time step accepted (RFC 6238 §5.2: a code is never taken twice). confirmed is 0
-- from enrollment until a first code proves the app holds the secret.
CREATE TABLE authenticators (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  type          TEXT NOT NULL,                   -- 'totp'
  name          TEXT,
  secret_sealed TEXT,
  last_step     INTEGER,
  confirmed     INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  last_auth_at  INTEGER
);
CREATE INDEX authenticators_user ON authenticators (user_id);

-- Recovery codes: SHA-256 of each (100 random bits); a used code is deleted.
CREATE TABLE recovery_codes (
  user_id    TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, code_hash)
);

-- MFA tokens (the password grant's mfa_token) redeemed: each works once. Kept until expiry.
-- used_by is a random value naming the redemption that spent it: the batch that spends a
-- token goes on to take the factor only if its own redemption is the one recorded.
CREATE TABLE mfa_tokens_used (
  jti        TEXT PRIMARY KEY,
  used_by    TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
