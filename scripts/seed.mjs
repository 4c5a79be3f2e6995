// Turns a tenant seed file (seed/*.json) into SQL upserts for D1, so loading it twice is safe.
// Client secrets and user passwords are hashed here exactly as the issuer hashes them
// (src/model/secret.rs, src/oauth/password.rs): only hashes are stored.
//
//   ISSUER=https://id.example.com KEY_ENCRYPTION_KEY=… node scripts/seed.mjs seed/dev.json > seed.sql
//   wrangler d1 execute DB --file seed.sql
//
// `{{ISSUER}}` in the file is replaced by ISSUER (no trailing slash), so the management API's
// identifier matches the issuer it is loaded into. KEY_ENCRYPTION_KEY seals hook secrets the
// way the issuer does (AES-256-GCM, the hook id as associated data); it is needed only when the
// file has hooks. Tests import seedStatements() and run each statement against Miniflare's D1.
import { createCipheriv, createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
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

/** Seals a secret as the issuer's Kek::seal does: v1.<nonce>.<ciphertext+tag>, base64. */
export function seal(kekBase64, aad, plaintext) {
  const key = Buffer.from(kekBase64.trim(), 'base64');
  if (key.length !== 32) throw new Error('KEY_ENCRYPTION_KEY must be 32 bytes of base64');
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1.${nonce.toString('base64')}.${ct.toString('base64')}`;
}

const int = (v, d) => Number(v ?? d);
const bool = (v) => (v ? 1 : 0);

/**
 * SQL statements (one string each, no trailing semicolon) that upsert the seed's tenant.
 * `issuer` replaces `{{ISSUER}}`; `kek` seals hook secrets.
 */
export function seedStatements(seed, { issuer = 'http://127.0.0.1:8787', kek, now = Math.floor(Date.now() / 1000) } = {}) {
  seed = JSON.parse(JSON.stringify(seed).replaceAll('{{ISSUER}}', issuer.replace(/\/+$/, '')));
  const out = [];
  for (const api of seed.apis ?? []) {
    out.push(
      `INSERT INTO apis (identifier, name, scopes, token_lifetime, rbac_enabled, token_permissions, ` +
        `user_grantable_scopes, signing_alg, created_at, updated_at) ` +
        `VALUES (${q(api.identifier)}, ${q(api.name)}, ${json(api.scopes)}, ${Number(api.token_lifetime ?? 86400)}, ` +
        `${bool(api.rbac_enabled)}, ${bool(api.token_permissions)}, ${json(api.user_grantable_scopes ?? [])}, ${q(api.signing_alg ?? 'ES256')}, ${now}, ${now}) ` +
        `ON CONFLICT (identifier) DO UPDATE SET name = excluded.name, scopes = excluded.scopes, ` +
        `token_lifetime = excluded.token_lifetime, rbac_enabled = excluded.rbac_enabled, ` +
        `token_permissions = excluded.token_permissions, ` +
        `user_grantable_scopes = excluded.user_grantable_scopes, signing_alg = excluded.signing_alg, ` +
        `updated_at = excluded.updated_at`,
    );
  }
  for (const c of seed.clients ?? []) {
    const hash = c.client_secret ? hashClientSecret(c.client_secret) : null;
    out.push(
      `INSERT INTO clients (client_id, name, secret_hash, grant_types, default_audience, ` +
        `refresh_absolute_lifetime, refresh_idle_lifetime, refresh_reuse_interval, id_token_signed_response_alg, ` +
        `client_metadata, redirect_uris, web_origins, allowed_logout_urls, initiate_login_uri, created_at, updated_at) ` +
        `VALUES (${q(c.client_id)}, ${q(c.name)}, ${q(hash)}, ${json(c.grant_types)}, ${q(c.default_audience)}, ` +
        `${int(c.refresh_absolute_lifetime, 2592000)}, ${int(c.refresh_idle_lifetime, 1296000)}, ` +
        `${int(c.refresh_reuse_interval, 0)}, ${q(c.id_token_signed_response_alg ?? 'RS256')}, ` +
        `${q(JSON.stringify(c.client_metadata ?? {}))}, ${json(c.redirect_uris)}, ${json(c.web_origins)}, ` +
        `${json(c.allowed_logout_urls)}, ${q(c.initiate_login_uri)}, ${now}, ${now}) ` +
        `ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash, ` +
        `grant_types = excluded.grant_types, default_audience = excluded.default_audience, ` +
        `refresh_absolute_lifetime = excluded.refresh_absolute_lifetime, refresh_idle_lifetime = excluded.refresh_idle_lifetime, ` +
        `refresh_reuse_interval = excluded.refresh_reuse_interval, ` +
        `id_token_signed_response_alg = excluded.id_token_signed_response_alg, ` +
        `client_metadata = excluded.client_metadata, redirect_uris = excluded.redirect_uris, ` +
        `web_origins = excluded.web_origins, allowed_logout_urls = excluded.allowed_logout_urls, ` +
        `initiate_login_uri = excluded.initiate_login_uri, ` +
        `updated_at = excluded.updated_at`,
    );
    // A client signs in through every connection, as one made through the management API.
    out.push(
      `INSERT OR IGNORE INTO connection_clients (connection_id, client_id) ` +
        `SELECT connection_id, ${q(c.client_id)} FROM connections`,
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
    // The identity the user was created with: provider and id from the user_id.
    const [provider, id] = u.user_id.includes('|') ? u.user_id.split(/\|(.*)/s) : ['auth0', u.user_id];
    out.push(
      `INSERT OR IGNORE INTO identities (provider, identity_id, user_id, connection, created_at) ` +
        `VALUES (${q(provider)}, ${q(id)}, ${q(u.user_id)}, ${q(u.connection ?? 'Username-Password-Authentication')}, ${now})`,
    );
  }
  for (const r of seed.roles ?? []) {
    out.push(
      `INSERT INTO roles (role_id, name, description) VALUES (${q(r.role_id)}, ${q(r.name)}, ${q(r.description)}) ` +
        `ON CONFLICT (role_id) DO UPDATE SET name = excluded.name, description = excluded.description`,
    );
    for (const p of r.permissions ?? []) {
      out.push(
        `INSERT OR IGNORE INTO role_permissions (role_id, audience, permission) ` +
          `VALUES (${q(r.role_id)}, ${q(p.audience)}, ${q(p.permission)})`,
      );
    }
  }
  for (const u of seed.users ?? []) {
    for (const role of u.roles ?? []) {
      out.push(`INSERT OR IGNORE INTO user_roles (user_id, role_id, org_id) VALUES (${q(u.user_id)}, ${q(role)}, '')`);
    }
  }
  for (const o of seed.organizations ?? []) {
    out.push(
      `INSERT INTO organizations (org_id, name, display_name, token_org_name) ` +
        `VALUES (${q(o.org_id)}, ${q(o.name)}, ${q(o.display_name)}, ${bool(o.token_org_name)}) ` +
        `ON CONFLICT (org_id) DO UPDATE SET name = excluded.name, display_name = excluded.display_name, ` +
        `token_org_name = excluded.token_org_name`,
    );
    for (const m of o.members ?? []) {
      out.push(`INSERT OR IGNORE INTO organization_members (org_id, user_id) VALUES (${q(o.org_id)}, ${q(m)})`);
    }
    for (const r of o.roles ?? []) {
      out.push(
        `INSERT OR IGNORE INTO user_roles (user_id, role_id, org_id) VALUES (${q(r.user_id)}, ${q(r.role_id)}, ${q(o.org_id)})`,
      );
    }
  }
  for (const r of seed.rules ?? []) {
    out.push(
      `INSERT INTO rules (rule_id, name, trigger, position, enabled, conditions, assignments, allow_user_controlled, created_at, updated_at) ` +
        `VALUES (${q(r.rule_id)}, ${q(r.name)}, ${q(r.trigger)}, ${int(r.position, 0)}, ${bool(r.enabled ?? true)}, ` +
        `${q(JSON.stringify(r.conditions ?? {}))}, ${q(JSON.stringify(r.assignments ?? []))}, ${bool(r.allow_user_controlled)}, ${now}, ${now}) ` +
        `ON CONFLICT (rule_id) DO UPDATE SET name = excluded.name, trigger = excluded.trigger, position = excluded.position, ` +
        `enabled = excluded.enabled, conditions = excluded.conditions, assignments = excluded.assignments, ` +
        `allow_user_controlled = excluded.allow_user_controlled, updated_at = excluded.updated_at`,
    );
  }
  for (const h of seed.hooks ?? []) {
    if (!kek) throw new Error('seeding hooks needs KEY_ENCRYPTION_KEY to seal their secrets');
    out.push(
      `INSERT INTO hooks (hook_id, name, trigger, position, enabled, url, service, secret, timeout_ms, on_failure, created_at, updated_at) ` +
        `VALUES (${q(h.hook_id)}, ${q(h.name)}, ${q(h.trigger)}, ${int(h.position, 0)}, ${bool(h.enabled ?? true)}, ` +
        `${q(h.url)}, ${q(h.service)}, ${q(seal(kek, h.hook_id, h.secret))}, ${int(h.timeout_ms, 2000)}, ` +
        `${q(h.on_failure ?? 'deny')}, ${now}, ${now}) ` +
        `ON CONFLICT (hook_id) DO UPDATE SET name = excluded.name, trigger = excluded.trigger, position = excluded.position, ` +
        `enabled = excluded.enabled, url = excluded.url, service = excluded.service, secret = excluded.secret, ` +
        `timeout_ms = excluded.timeout_ms, on_failure = excluded.on_failure, updated_at = excluded.updated_at`,
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
  const opts = { issuer: process.env.ISSUER ?? 'http://127.0.0.1:8787', kek: process.env.KEY_ENCRYPTION_KEY };
  process.stdout.write(seedStatements(seed, opts).map((s) => `${s};\n`).join(''));
}
