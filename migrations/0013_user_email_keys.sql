-- The look-alike key of each user's email (model::email::key: ASCII case ignored, Unicode
-- TR39 confusables with an ASCII prototype replaced by it), unique per connection, so an
-- address made to look like an existing one is refused as taken. Written by the issuer with
-- every email it stores; rows from before this migration get theirs from the scheduled
-- maintenance (NULL until then: NULLs never conflict).
ALTER TABLE users ADD COLUMN email_key TEXT;
CREATE UNIQUE INDEX users_connection_email_key ON users (connection, email_key);
