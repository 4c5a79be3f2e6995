-- Email: where messages go (Auth0's /api/v2/emails/provider), what they say
-- (/api/v2/email-templates/{name}) and the single-use tickets their links carry. See
-- docs/storage.md.

-- The one email provider of the tenant: 'custom' (a signed webhook to settings.url) or
-- 'resend' (Resend's HTTP API). Its secret (the webhook's signing secret, or the API key) is
-- sealed under the key-encryption key, with 'email_provider' as associated data.
CREATE TABLE email_provider (
  id                   INTEGER PRIMARY KEY CHECK (id = 1),
  name                 TEXT NOT NULL,
  enabled              INTEGER NOT NULL DEFAULT 1,
  default_from_address TEXT,
  settings             TEXT NOT NULL DEFAULT '{}',  -- JSON object: {url} for custom
  credentials_sealed   TEXT,
  updated_at           INTEGER NOT NULL
);

-- The message of each kind. `body` is HTML and `text` plain text; both, and `subject`, take
-- {{ name }} placeholders (url, code, user.email, user.name, application.name, ...).
CREATE TABLE email_templates (
  template                  TEXT PRIMARY KEY,          -- 'verify_email', 'reset_email', ...
  enabled                   INTEGER NOT NULL DEFAULT 1,
  from_address              TEXT,                      -- NULL: the provider's default
  subject                   TEXT NOT NULL,
  body                      TEXT NOT NULL,
  text                      TEXT NOT NULL,
  result_url                TEXT,                      -- where the page links after the ticket
  url_lifetime              INTEGER,                   -- seconds; NULL: the flow's default
  include_email_in_redirect INTEGER NOT NULL DEFAULT 0
);

-- The set that ships. A tenant changes them through the management API.
INSERT INTO email_templates (template, subject, body, text) VALUES
('verify_email', 'Verify your email for {{ application.name }}',
 '<p>Hello,</p><p>Please confirm that <b>{{ user.email }}</b> is your email address for {{ application.name }}.</p><p><a href="{{ url }}">Verify my email</a></p><p>If you did not sign up, you can ignore this message.</p>',
 'Hello,

Please confirm that {{ user.email }} is your email address for {{ application.name }} by opening this link:

{{ url }}

If you did not sign up, you can ignore this message.'),
('reset_email', 'Reset your password for {{ application.name }}',
 '<p>Hello,</p><p>Someone asked to reset the password of <b>{{ user.email }}</b> for {{ application.name }}.</p><p><a href="{{ url }}">Choose a new password</a></p><p>The link works once and for a short while. If it was not you, ignore this message: your password stays as it is.</p>',
 'Hello,

Someone asked to reset the password of {{ user.email }} for {{ application.name }}. To choose a new password, open this link:

{{ url }}

The link works once and for a short while. If it was not you, ignore this message: your password stays as it is.'),
('welcome_email', 'Welcome to {{ application.name }}',
 '<p>Hello,</p><p>Your email {{ user.email }} is verified. Welcome to {{ application.name }}.</p>',
 'Hello,

Your email {{ user.email }} is verified. Welcome to {{ application.name }}.');
-- welcome_email is off until a tenant turns it on, as Auth0's.
UPDATE email_templates SET enabled = 0 WHERE template = 'welcome_email';

-- The tickets email links carry: the SHA-256 of the random value only. 'verify' binds the
-- user and the address it was sent to; 'reset' binds the user and the tail of the password
-- hash current when it was made (binding), so any change of password voids it. A newer
-- ticket of a kind voids the user's older ones; used_by names the one redemption that took it
-- (single use in one statement).
CREATE TABLE email_tickets (
  ticket_hash TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,                           -- 'verify' | 'reset'
  user_id     TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
  email       TEXT NOT NULL,
  client_id   TEXT,
  binding     TEXT,
  result_url  TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  used_by     TEXT
);
CREATE INDEX email_tickets_user ON email_tickets (user_id, kind);
CREATE INDEX email_tickets_expiry ON email_tickets (expires_at);
