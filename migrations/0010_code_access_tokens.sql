-- The access token issued at a code's redemption (its jti and expiry), so a code presented
-- again revokes it (RFC 6749 §4.1.2) even when no refresh token was issued with it.
ALTER TABLE authorization_codes ADD COLUMN access_jti TEXT;
ALTER TABLE authorization_codes ADD COLUMN access_expires_at INTEGER;
