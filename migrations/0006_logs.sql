-- Tenant logs: sign-ins, token exchanges and management writes, as Auth0's log events. See
-- docs/storage.md. Never a password, secret or token: ids, the user's email, the IP and the
-- event's kind only.

CREATE TABLE logs (
  log_id      TEXT PRIMARY KEY,                        -- random, 128 bits, hex
  date        INTEGER NOT NULL,                        -- seconds since the epoch
  type        TEXT NOT NULL,                           -- Auth0's event code: s, fp, seccft, sapi, ...
  description TEXT NOT NULL,
  client_id   TEXT,
  user_id     TEXT,
  user_name   TEXT,                                    -- the email the user gave or has
  ip          TEXT,
  details     TEXT NOT NULL DEFAULT '{}'               -- JSON object
);
CREATE INDEX logs_date ON logs (date);
CREATE INDEX logs_user ON logs (user_id, date);
