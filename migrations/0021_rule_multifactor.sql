-- A post-login rule may require a second factor for the sign-ins it matches (as Auth0's
-- `api.multifactor.enable` in an Action). See docs/storage.md.
ALTER TABLE rules ADD COLUMN multifactor INTEGER NOT NULL DEFAULT 0;
