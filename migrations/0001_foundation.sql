-- Foundation: APIs, clients, client grants and signing keys. See docs/storage.md.

CREATE TABLE apis (
  identifier     TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  scopes         TEXT NOT NULL DEFAULT '[]',           -- JSON array of scope names
  token_lifetime INTEGER NOT NULL DEFAULT 86400,       -- seconds
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE clients (
  client_id        TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  secret_hash      TEXT,                               -- 'sha256:<b64url>'; NULL = public client
  grant_types      TEXT NOT NULL DEFAULT '[]',         -- JSON array
  default_audience TEXT REFERENCES apis(identifier) ON DELETE SET NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);

CREATE TABLE client_grants (
  client_id  TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  audience   TEXT NOT NULL REFERENCES apis(identifier) ON DELETE CASCADE,
  scopes     TEXT NOT NULL DEFAULT '[]',               -- JSON array, subset of the API's
  created_at INTEGER NOT NULL,
  PRIMARY KEY (client_id, audience)
);

CREATE TABLE signing_keys (
  kid             TEXT PRIMARY KEY,                    -- RFC 7638 thumbprint
  alg             TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('active', 'retired')),
  public_jwk      TEXT NOT NULL,
  private_key_enc TEXT NOT NULL,                       -- AES-256-GCM under KEY_ENCRYPTION_KEY
  created_at      INTEGER NOT NULL,
  retired_at      INTEGER
);

-- At most one active key per algorithm: concurrent first-use generation cannot create two.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE status = 'active';
