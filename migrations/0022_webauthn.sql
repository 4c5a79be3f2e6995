-- WebAuthn credentials (security keys and passkeys) as authenticators of type
-- 'webauthn-roaming' or 'webauthn-platform'. credential_id is the credential's id
-- (base64url), public_key its public key as a JWK with its "alg", sign_count the
-- authenticator's signature counter last seen. For these, last_step is the issue time of the
-- last challenge accepted (a challenge works once: it is spent in mfa_tokens_used). See
-- docs/storage.md.
ALTER TABLE authenticators ADD COLUMN credential_id TEXT;
ALTER TABLE authenticators ADD COLUMN public_key TEXT;
ALTER TABLE authenticators ADD COLUMN sign_count INTEGER;
CREATE UNIQUE INDEX authenticators_credential ON authenticators (credential_id);
