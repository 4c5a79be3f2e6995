-- Claims pipeline (rules and hooks), RBAC and organizations. See docs/storage.md.

ALTER TABLE clients ADD COLUMN client_metadata TEXT NOT NULL DEFAULT '{}';   -- JSON object

ALTER TABLE apis ADD COLUMN rbac_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apis ADD COLUMN token_permissions INTEGER NOT NULL DEFAULT 0;    -- add `permissions`

-- Declarative claim rules, run in `position` order per trigger.
CREATE TABLE rules (
  rule_id     TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  trigger     TEXT NOT NULL CHECK (trigger IN ('post-login', 'credentials-exchange')),
  position    INTEGER NOT NULL DEFAULT 0,
  enabled     INTEGER NOT NULL DEFAULT 1,
  conditions  TEXT NOT NULL DEFAULT '{}',                 -- JSON, see src/claims/rules.rs
  assignments TEXT NOT NULL DEFAULT '[]',                 -- JSON array of {target, claim, value|path}
  allow_user_controlled INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- Hooks: an HTTPS endpoint or a service binding that answers the event with claims.
CREATE TABLE hooks (
  hook_id     TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  trigger     TEXT NOT NULL CHECK (trigger IN ('post-login', 'credentials-exchange')),
  position    INTEGER NOT NULL DEFAULT 0,
  enabled     INTEGER NOT NULL DEFAULT 1,
  url         TEXT,                                       -- https endpoint, or
  service     TEXT,                                       -- a service binding name
  secret      TEXT NOT NULL,                              -- HMAC key for the signature header
  timeout_ms  INTEGER NOT NULL DEFAULT 2000,
  on_failure  TEXT NOT NULL DEFAULT 'deny' CHECK (on_failure IN ('deny', 'skip')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  CHECK ((url IS NULL) <> (service IS NULL))
);

CREATE TABLE roles (
  role_id     TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  description TEXT
);

-- A permission is a scope of an API.
CREATE TABLE role_permissions (
  role_id    TEXT NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
  audience   TEXT NOT NULL REFERENCES apis(identifier) ON DELETE CASCADE,
  permission TEXT NOT NULL,
  PRIMARY KEY (role_id, audience, permission)
);

CREATE TABLE organizations (
  org_id         TEXT PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  display_name   TEXT,
  token_org_name INTEGER NOT NULL DEFAULT 0             -- add `org_name` to tokens
);

CREATE TABLE organization_members (
  org_id  TEXT NOT NULL REFERENCES organizations(org_id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  PRIMARY KEY (org_id, user_id)
);

-- Roles of a user: global when org_id is '' (the empty string, so the key stays unique),
-- else within that organization.
CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  role_id TEXT NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
  org_id  TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (user_id, role_id, org_id)
);
CREATE INDEX user_roles_user ON user_roles (user_id);

-- Refresh tokens remember the organization of their grant.
ALTER TABLE refresh_tokens ADD COLUMN org_id TEXT;
