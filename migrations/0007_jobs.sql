-- Management jobs (bulk user imports): their outcome and per-row errors. See docs/storage.md.

CREATE TABLE jobs (
  job_id      TEXT PRIMARY KEY,                        -- 'job_' + 128 random bits, hex
  type        TEXT NOT NULL,                           -- 'users_import'
  status      TEXT NOT NULL,                           -- 'completed' or 'failed'
  connection  TEXT NOT NULL,
  upsert      INTEGER NOT NULL DEFAULT 0,
  external_id TEXT,
  created_at  INTEGER NOT NULL,
  summary     TEXT NOT NULL DEFAULT '{}',              -- {total, inserted, updated, failed}
  errors      TEXT NOT NULL DEFAULT '[]'               -- [{user: {email}, errors: [{code, message, path}]}]
);
