-- Access tokens revoked before they expire. Each refresh token row records the access token
-- issued with it (its jti and expiry), so revoking a refresh family (RFC 7009, or reuse
-- detection) puts the unexpired access tokens of that family here, in the same transaction.
-- /userinfo, introspection and the management API refuse a listed jti; gateways read the
-- list at /.well-known/revoked-jtis. Rows go once their token has expired.
ALTER TABLE refresh_tokens ADD COLUMN access_jti TEXT;
ALTER TABLE refresh_tokens ADD COLUMN access_expires_at INTEGER;

CREATE TABLE revoked_tokens (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL,                         -- the token's exp: kept until then
  revoked_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
