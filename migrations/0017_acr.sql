-- The authentication context class an upstream OpenID provider reported for a sign-in (its
-- ID token's `acr`), kept with what the sign-in yields, as `amr` is (0014): the session, each
-- code and each refresh token, so every ID token from them says it. NULL when nothing was
-- reported (a password here claims no class).
ALTER TABLE sessions ADD COLUMN acr TEXT;
ALTER TABLE authorization_codes ADD COLUMN acr TEXT;
ALTER TABLE refresh_tokens ADD COLUMN acr TEXT;
