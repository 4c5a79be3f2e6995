-- The remembered browser (Auth0's /api/v2/guardian/settings): whether the second factor's page
-- offers "Remember this browser", whether it is ticked at first, and how long a remembered
-- browser skips the factor: since its last use (inactivity) and in all (overall), in
-- seconds. Off as shipped; 30 days each. See docs/storage.md.
ALTER TABLE guardian_policy ADD COLUMN remember_checkbox INTEGER NOT NULL DEFAULT 0;
ALTER TABLE guardian_policy ADD COLUMN remember_default INTEGER NOT NULL DEFAULT 0;
ALTER TABLE guardian_policy ADD COLUMN remember_inactivity INTEGER NOT NULL DEFAULT 2592000;
ALTER TABLE guardian_policy ADD COLUMN remember_overall INTEGER NOT NULL DEFAULT 2592000;

-- Each user's browsers remembered until this time are forgotten (a factor reset, or
-- /api/v2/users/{id}/multifactor/actions/invalidate-remember-browser): a remembered browser's
-- cookie says when it was made, and one made at or before this time is not honoured.
ALTER TABLE users ADD COLUMN browsers_forgotten_at INTEGER NOT NULL DEFAULT 0;
