-- Signing keys get a lifecycle: next (published, not yet signing) -> current (signs) ->
-- previous (published until every token it signed has expired, then deleted), or revoked
-- (out of the JWKS at once). SQLite cannot change a CHECK, so the table is rebuilt; an
-- active key becomes current (since it was made), a retired one previous.
CREATE TABLE signing_keys_lifecycle (
  kid             TEXT PRIMARY KEY,                    -- RFC 7638 thumbprint
  alg             TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('next', 'current', 'previous', 'revoked')),
  public_jwk      TEXT NOT NULL,
  private_key_enc TEXT NOT NULL,                       -- AES-256-GCM under KEY_ENCRYPTION_KEY
  created_at      INTEGER NOT NULL,                    -- made, and so first published
  current_since   INTEGER,
  current_until   INTEGER,
  revoked_at      INTEGER
);

INSERT INTO signing_keys_lifecycle
  (kid, alg, status, public_jwk, private_key_enc, created_at, current_since, current_until)
SELECT kid, alg, CASE status WHEN 'active' THEN 'current' ELSE 'previous' END,
       public_jwk, private_key_enc, created_at, created_at,
       CASE status WHEN 'active' THEN NULL ELSE coalesce(retired_at, created_at) END
FROM signing_keys;

DROP TABLE signing_keys;
ALTER TABLE signing_keys_lifecycle RENAME TO signing_keys;

-- At most one current and one next key per algorithm: concurrent first use or rotation
-- cannot make two.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg) WHERE status = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE status = 'next';
