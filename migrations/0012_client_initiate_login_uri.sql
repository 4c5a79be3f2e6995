-- Auth0's `initiate_login_uri`: where a sign-in of the client starts (its login route). The
-- hosted pages link to it when a sign-in cannot go on (an error page, an expired form).
ALTER TABLE clients ADD COLUMN initiate_login_uri TEXT;
