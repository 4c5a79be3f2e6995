// Turns a tenant seed file (seed/*.json) into SQL upserts for D1, so loading it twice is safe.
// Client secrets are hashed here exactly as the issuer hashes them (src/secret.rs): only the
// hash is stored.
//
//   node scripts/seed.mjs seed/dev.json > seed.sql     # then: wrangler d1 execute DB --file seed.sql
//
// Tests import seedStatements() and run each statement against Miniflare's D1.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const q = (v) => (v === null || v === undefined ? 'NULL' : `'${String(v).replaceAll("'", "''")}'`);
const json = (v) => q(JSON.stringify(v ?? []));

export function hashClientSecret(secret) {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}

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
      `INSERT INTO clients (client_id, name, secret_hash, grant_types, default_audience, created_at, updated_at) ` +
        `VALUES (${q(c.client_id)}, ${q(c.name)}, ${q(hash)}, ${json(c.grant_types)}, ${q(c.default_audience)}, ${now}, ${now}) ` +
        `ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash, ` +
        `grant_types = excluded.grant_types, default_audience = excluded.default_audience, updated_at = excluded.updated_at`,
    );
    for (const g of c.grants ?? []) {
      out.push(
        `INSERT INTO client_grants (client_id, audience, scopes, created_at) ` +
          `VALUES (${q(c.client_id)}, ${q(g.audience)}, ${json(g.scopes)}, ${now}) ` +
          `ON CONFLICT (client_id, audience) DO UPDATE SET scopes = excluded.scopes`,
      );
    }
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
