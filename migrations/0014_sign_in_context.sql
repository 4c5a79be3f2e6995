-- How each sign-in was proven, kept with what it yields: the connection's name and the
-- authentication methods (RFC 8176 `amr` values, space-separated), on the session, on each
-- code and on each refresh token, so ID tokens from a session, a code or a refresh carry
-- `amr` and the pipeline's event names the connection and the methods. Rows from before this
-- migration hold NULL: their tokens carry no `amr`.
ALTER TABLE sessions ADD COLUMN connection TEXT;
ALTER TABLE sessions ADD COLUMN amr TEXT;
ALTER TABLE authorization_codes ADD COLUMN connection TEXT;
ALTER TABLE authorization_codes ADD COLUMN amr TEXT;
ALTER TABLE refresh_tokens ADD COLUMN connection TEXT;
ALTER TABLE refresh_tokens ADD COLUMN amr TEXT;
