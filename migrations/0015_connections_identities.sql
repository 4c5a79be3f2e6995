-- Connections as records (Auth0's /api/v2/connections) and each user's identities.
-- See docs/storage.md.

CREATE TABLE connections (
  connection_id TEXT PRIMARY KEY,                      -- 'con_' and 16 letters or digits
  name          TEXT NOT NULL UNIQUE,                  -- what users.connection holds
  strategy      TEXT NOT NULL,                         -- 'auth0': the database strategy
  display_name  TEXT,
  options       TEXT NOT NULL DEFAULT '{}',            -- JSON object, checked when written
  metadata      TEXT NOT NULL DEFAULT '{}',            -- JSON object of strings
  created_at    INTEGER NOT NULL
);

-- The clients each connection signs users in for.
CREATE TABLE connection_clients (
  connection_id TEXT NOT NULL REFERENCES connections(connection_id) ON DELETE CASCADE,
  client_id     TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  PRIMARY KEY (connection_id, client_id)
);
CREATE INDEX connection_clients_client ON connection_clients (client_id);

-- The tenant's database connection, with the policy the issuer applied before connections
-- were records (at least 8 characters, not the email) and a check against common passwords;
-- and one for any other connection name a user holds.
INSERT INTO connections (connection_id, name, strategy, options, created_at)
VALUES ('con_' || lower(hex(randomblob(8))), 'Username-Password-Authentication', 'auth0',
        '{"passwordPolicy":"none","password_complexity_options":{"min_length":8},"password_no_personal_info":{"enable":false},"password_dictionary":{"enable":true,"dictionary":[]},"brute_force_protection":true,"disable_signup":false}',
        unixepoch());
INSERT INTO connections (connection_id, name, strategy, options, created_at)
SELECT 'con_' || lower(hex(randomblob(8))), connection, 'auth0', '{}', unixepoch()
FROM (SELECT DISTINCT connection FROM users WHERE connection <> 'Username-Password-Authentication');
-- Every client signs in through every connection, as before.
INSERT INTO connection_clients (connection_id, client_id)
SELECT c.connection_id, k.client_id FROM connections c CROSS JOIN clients k;

-- A user's identities: the one they were created with (provider and id from their user_id)
-- and those linked to them. An identity belongs to one user.
CREATE TABLE identities (
  provider      TEXT NOT NULL,                         -- 'auth0' for database users
  identity_id   TEXT NOT NULL,                         -- the provider's user id
  user_id       TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  connection    TEXT NOT NULL,                         -- the connection's name
  is_social     INTEGER NOT NULL DEFAULT 0,
  profile_data  TEXT NOT NULL DEFAULT '{}',            -- JSON object: the provider's profile
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (provider, identity_id)
);
CREATE INDEX identities_user ON identities (user_id);
CREATE INDEX identities_connection ON identities (connection, user_id);
INSERT INTO identities (provider, identity_id, user_id, connection, created_at)
SELECT CASE WHEN instr(user_id, '|') > 0 THEN substr(user_id, 1, instr(user_id, '|') - 1)
            ELSE 'auth0' END,
       CASE WHEN instr(user_id, '|') > 0 THEN substr(user_id, instr(user_id, '|') + 1)
            ELSE user_id END,
       user_id, connection, created_at
FROM users;

-- A user linked into another (Auth0's account linking): its row stays, holding the password
-- and email its database identity signs in with, but it is no user of its own any more: it
-- is not listed or read, and signing in through it signs the primary user in. Deleting the
-- primary user deletes it.
ALTER TABLE users ADD COLUMN linked_to TEXT REFERENCES users(user_id) ON DELETE CASCADE;
CREATE INDEX users_linked_to ON users (linked_to) WHERE linked_to IS NOT NULL;
