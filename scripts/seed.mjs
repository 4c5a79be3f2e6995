// Turns a tenant seed file (seed/*.json) into SQL upserts for D1, so loading it twice is safe.
// Client secrets and user passwords are hashed here exactly as the issuer hashes them
// (src/secret.rs, src/password.rs): only hashes are stored.
//
//   node scripts/seed.mjs seed/dev.json > seed.sql     # then: wrangler d1 execute DB --file seed.sql
//
// Tests import seedStatements() and run each statement against Miniflare's D1.
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const q = (v) => (v === null || v === undefined ? 'NULL' : `'${String(v).replaceAll("'", "''")}'`);
const json = (v) => q(JSON.stringify(v ?? []));

export function hashClientSecret(secret) {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}

/** The issuer's native password format: $pbkdf2-sha256$i=<n>$<salt>$<hash> (base64, no padding). */
export function hashPassword(password, iterations = 100_000) {
  const salt = randomBytes(16);
  const dk = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const b64 = (b) => b.toString('base64').replace(/=+$/, '');
  return `$pbkdf2-sha256$i=${iterations}$${b64(salt)}$${b64(dk)}`;
}

const int = (v, d) => Number(v ?? d);
const bool = (v) => (v ? 1 : 0);

/** SQL statements (one string each, no trailing semicolon) that upsert the seed's tenant. */
export function seedStatements(seed, now = Math.floor(Date.now() / 1000)) {
  const out = [];
  for (const api of seed.apis ?? []) {
    out.push(
      `INSERT INTO apis (identifier, name, scopes, token_lifetime, created_at, updated_at) ` +
        `VALUES (${q(api.identifier)}, ${q(api.name)}, ${json(api.scopes)}, ${Number(api.token_lifetime ?? 86400)}, ${now}, ${now}) ` +
        `ON CONFLICT (identifier) DO UPDATE SET name = excluded.name, scopes = excluded.scopes, ` +
        `token_lifetime = excluded.token_lifetime, updated_at = excluded.updated_at`,
    );
  }
  for (const c of seed.clients ?? []) {
    const hash = c.client_secret ? hashClientSecret(c.client_secret) : null;
    out.push(
      `INSERT INTO clients (client_id, name, secret_hash, grant_types, default_audience, ` +
        `refresh_absolute_lifetime, refresh_idle_lifetime, refresh_reuse_interval, id_token_signed_response_alg, ` +
        `created_at, updated_at) ` +
        `VALUES (${q(c.client_id)}, ${q(c.name)}, ${q(hash)}, ${json(c.grant_types)}, ${q(c.default_audience)}, ` +
        `${int(c.refresh_absolute_lifetime, 2592000)}, ${int(c.refresh_idle_lifetime, 1296000)}, ` +
        `${int(c.refresh_reuse_interval, 0)}, ${q(c.id_token_signed_response_alg ?? 'ES256')}, ${now}, ${now}) ` +
        `ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash, ` +
        `grant_types = excluded.grant_types, default_audience = excluded.default_audience, ` +
        `refresh_absolute_lifetime = excluded.refresh_absolute_lifetime, refresh_idle_lifetime = excluded.refresh_idle_lifetime, ` +
        `refresh_reuse_interval = excluded.refresh_reuse_interval, ` +
        `id_token_signed_response_alg = excluded.id_token_signed_response_alg, updated_at = excluded.updated_at`,
    );
    for (const g of c.grants ?? []) {
      out.push(
        `INSERT INTO client_grants (client_id, audience, scopes, created_at) ` +
          `VALUES (${q(c.client_id)}, ${q(g.audience)}, ${json(g.scopes)}, ${now}) ` +
          `ON CONFLICT (client_id, audience) DO UPDATE SET scopes = excluded.scopes`,
      );
    }
  }
  for (const u of seed.users ?? []) {
    const hash = u.password ? hashPassword(u.password) : (u.password_hash ?? null);
    out.push(
      `INSERT INTO users (user_id, connection, email, email_verified, name, given_name, family_name, nickname, ` +
        `picture, user_metadata, app_metadata, blocked, password_hash, created_at, updated_at) ` +
        `VALUES (${q(u.user_id)}, ${q(u.connection ?? 'Username-Password-Authentication')}, ${q(u.email)}, ` +
        `${bool(u.email_verified)}, ${q(u.name)}, ${q(u.given_name)}, ${q(u.family_name)}, ${q(u.nickname)}, ` +
        `${q(u.picture)}, ${q(JSON.stringify(u.user_metadata ?? {}))}, ${q(JSON.stringify(u.app_metadata ?? {}))}, ` +
        `${bool(u.blocked)}, ${q(hash)}, ${now}, ${now}) ` +
        `ON CONFLICT (user_id) DO UPDATE SET connection = excluded.connection, email = excluded.email, ` +
        `email_verified = excluded.email_verified, name = excluded.name, given_name = excluded.given_name, ` +
        `family_name = excluded.family_name, nickname = excluded.nickname, picture = excluded.picture, ` +
        `user_metadata = excluded.user_metadata, app_metadata = excluded.app_metadata, blocked = excluded.blocked, ` +
        `password_hash = excluded.password_hash, updated_at = excluded.updated_at`,
    );
  }
  return out;
}

/** Statements of a migration file: comments dropped, split on semicolons. */
export function migrationStatements(sql) {
  return sql
    .split('\n')
    .map((line) => line.replace(/--.*$/, ''))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node scripts/seed.mjs seed/dev.json');
    process.exit(2);
  }
  const seed = JSON.parse(readFileSync(file, 'utf8'));
  process.stdout.write(seedStatements(seed).map((s) => `${s};\n`).join(''));
}
