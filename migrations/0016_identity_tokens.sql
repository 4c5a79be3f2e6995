-- The provider's tokens on an upstream identity (its access token, refresh token and the
-- access token's lifetime, as JSON), sealed under the key-encryption key with the identity
-- (`<provider>|<identity id>`) as associated data. Written only for connections whose
-- `store_idp_tokens` is true (NULL otherwise, and set NULL again when it is turned off), and
-- shown only to a management token holding `read:user_idp_tokens`.
ALTER TABLE identities ADD COLUMN tokens TEXT;
