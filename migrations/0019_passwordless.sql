-- Passwordless sign-in by email (Auth0's `email` connection): the one live code (and link)
-- of each address, connection and client, and the messages that carry them. See
-- docs/storage.md.

-- One row per (connection, address, client): a newer code replaces the older. Only hashes
-- are stored: code_hash is SHA-256 over the connection, address, client and the 6 digits
-- (a 6-digit code is found from its hash by trying them all, which is why it lives 5
-- minutes and allows 5 tries); link_hash is SHA-256 of a link's 32 random bytes. binding is
-- the SHA-256 of the login transaction's CSRF token a link completes. tries counts wrong
-- codes; at 5 the row is void; a resend while a code is live keeps the count (NIST 800-63B
-- §3.1.3.2: re-sending does not reset the throttle).
CREATE TABLE passwordless_codes (
  connection  TEXT NOT NULL,
  email       TEXT NOT NULL,                           -- lower case
  client_id   TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  code_hash   TEXT NOT NULL,
  link_hash   TEXT UNIQUE,
  binding     TEXT,
  tries       INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (connection, email, client_id)
);
CREATE INDEX passwordless_codes_expiry ON passwordless_codes (expires_at);

-- The messages: a code to type, and a link to open. Auth0 keeps these on the connection;
-- here they are templates like the others, so one provider and one API serve every message.
INSERT INTO email_templates (template, subject, body, text) VALUES
('passwordless_code', '{{ code }} is your code for {{ application.name }}',
 '<p>Hello,</p><p>Your code to sign in to {{ application.name }} is:</p><p style="font-size:24px"><b>{{ code }}</b></p><p>It works once, for 5 minutes. If you did not ask for it, ignore this message.</p>',
 'Hello,

Your code to sign in to {{ application.name }} is: {{ code }}

It works once, for 5 minutes. If you did not ask for it, ignore this message.'),
('passwordless_link', 'Sign in to {{ application.name }}',
 '<p>Hello,</p><p><a href="{{ url }}">Sign in to {{ application.name }}</a> as <b>{{ user.email }}</b>.</p><p>The link works once, for 5 minutes. If you did not ask for it, ignore this message.</p>',
 'Hello,

To sign in to {{ application.name }} as {{ user.email }}, open this link:

{{ url }}

The link works once, for 5 minutes. If you did not ask for it, ignore this message.');
