-- Refresh-token families own revocation (a token is usable only while its family is not
-- revoked), and users' APIs say which scopes users may hold. See docs/storage.md.

CREATE TABLE refresh_families (
  family_id  TEXT PRIMARY KEY,
  client_id  TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER                                   -- NULL while the family is alive
);

-- Every existing family, revoked if any of its tokens was.
INSERT INTO refresh_families (family_id, client_id, user_id, created_at, revoked_at)
  SELECT family_id, min(client_id), min(user_id), min(created_at), max(revoked_at)
  FROM refresh_tokens GROUP BY family_id;

-- Revocation now lives on the family only.
ALTER TABLE refresh_tokens DROP COLUMN revoked_at;

-- The token that replaced this one at rotation (its hash): the rotation batch stores the new
-- token only if its own compare-and-set named it here.
ALTER TABLE refresh_tokens ADD COLUMN replaced_by TEXT;

-- With RBAC off, a user-delegated token gets only the API scopes listed here (JSON array).
ALTER TABLE apis ADD COLUMN user_grantable_scopes TEXT NOT NULL DEFAULT '[]';
