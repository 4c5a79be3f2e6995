//! In-memory store for native tests, with the same semantics as the D1 store: exact-match
//! lookups, one current and one next key per alg enforced at insert, single-use refresh tokens by
//! compare-and-set, brute-force windows counted the same way.

use super::*;
use crate::error::StoreError;
use crate::model::*;
use std::cell::RefCell;
use std::collections::HashMap;

/// Attempts of one (user key, IP): (window start, attempts, locked until).
type Attempts = (u64, u32, u64);

/// Everything in `RefCell`s: the core is single-threaded, like a Worker isolate.
#[derive(Debug, Default)]
pub struct MemoryStore {
    clients: RefCell<Vec<Client>>,
    apis: RefCell<Vec<Api>>,
    grants: RefCell<Vec<ClientGrant>>,
    keys: RefCell<Vec<StoredKey>>,
    users: RefCell<Vec<User>>,
    attempts: RefCell<HashMap<(String, String), Attempts>>,
    refresh: RefCell<Vec<RefreshRecord>>,
    /// Refresh families: id → when revoked.
    families: RefCell<HashMap<String, Option<u64>>>,
    /// Revoked access tokens by `jti`.
    revoked_tokens: RefCell<std::collections::BTreeMap<String, RevokedToken>>,
    /// Set by [`MemoryStore::fail_commits`].
    failing_commits: std::cell::Cell<bool>,
    /// Set by [`MemoryStore::fail_call`].
    fail_at: std::cell::Cell<Option<u32>>,
    /// Port calls made from outside, each standing for one storage round trip (one D1
    /// statement or batch); see [`MemoryStore::round_trips`].
    round_trips: std::cell::Cell<u32>,
    /// Reads a warm Worker isolate answers from its memory; see [`MemoryStore::cached_reads`].
    cached_reads: std::cell::Cell<u32>,
    /// Port calls in progress: a call made by another port method is part of it.
    depth: std::rc::Rc<std::cell::Cell<u32>>,
    rules: RefCell<Vec<Rule>>,
    hooks: RefCell<Vec<StoredHook>>,
    /// Roles in insertion order, each with its permissions as (audience, permission).
    roles: RefCell<Vec<RoleEntry>>,
    /// (user id, role id, org id or "")
    user_roles: RefCell<Vec<(String, String, String)>>,
    orgs: RefCell<Vec<Organization>>,
    /// (org id, user id)
    members: RefCell<Vec<(String, String)>>,
    codes: RefCell<Vec<AuthorizationCode>>,
    /// The access token issued at each redeemed code's redemption, by code hash.
    code_access: RefCell<HashMap<String, IssuedAccess>>,
    sessions: RefCell<Vec<Session>>,
    logs: RefCell<Vec<LogEvent>>,
    jobs: RefCell<Vec<Job>>,
}

/// A port call in progress; its end is when it is dropped.
struct Depth(std::rc::Rc<std::cell::Cell<u32>>);

impl Drop for Depth {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// A role and its permissions as (audience, permission), in insertion order.
type RoleEntry = (Role, Vec<(String, String)>);

mod access;
mod keys;
mod logs;
mod registry;

/// One page of `items` and their count.
fn page<T>(items: Vec<T>, paging: Paging) -> Listed<T> {
    let total = items.len() as u64;
    let items = items
        .into_iter()
        .skip(usize::try_from(paging.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(paging.limit).unwrap_or(usize::MAX))
        .collect();
    Listed { items, total }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts or replaces a client (upsert by `client_id`).
    pub fn put_client(&self, client: Client) {
        let mut clients = self.clients.borrow_mut();
        clients.retain(|c| c.client_id != client.client_id);
        clients.push(client);
    }

    /// Inserts or replaces an API (upsert by identifier).
    pub fn put_api(&self, api: Api) {
        let mut apis = self.apis.borrow_mut();
        apis.retain(|a| a.identifier != api.identifier);
        apis.push(api);
    }

    /// Inserts or replaces a client grant (upsert by client and audience).
    pub fn put_grant(&self, grant: ClientGrant) {
        let mut grants = self.grants.borrow_mut();
        grants.retain(|g| !(g.client_id == grant.client_id && g.audience == grant.audience));
        grants.push(grant);
    }

    /// Inserts or replaces a user (upsert by `user_id`); email uniqueness per connection is
    /// the caller's business here, a unique index in D1.
    pub fn put_user(&self, user: User) {
        let mut users = self.users.borrow_mut();
        users.retain(|u| u.user_id != user.user_id);
        users.push(user);
    }

    /// Deletes a user with what is theirs, as D1's foreign keys cascade; reports whether
    /// there was one.
    pub fn drop_user(&self, user_id: &str) -> bool {
        let mut users = self.users.borrow_mut();
        let before = users.len();
        users.retain(|u| u.user_id != user_id);
        if users.len() == before {
            return false;
        }
        self.user_roles
            .borrow_mut()
            .retain(|(u, _, _)| u != user_id);
        self.members.borrow_mut().retain(|(_, u)| u != user_id);
        self.sessions.borrow_mut().retain(|s| s.user_id != user_id);
        self.codes.borrow_mut().retain(|c| c.user_id != user_id);
        let mut refresh = self.refresh.borrow_mut();
        let families: Vec<String> = refresh
            .iter()
            .filter(|r| r.user_id == user_id)
            .map(|r| r.family_id.clone())
            .collect();
        refresh.retain(|r| r.user_id != user_id);
        let mut stored = self.families.borrow_mut();
        for f in families {
            stored.remove(&f);
        }
        true
    }

    /// Whether another user than `user_id` of `connection` has `email` or a look-alike of it
    /// (the same [`crate::model::email::key`], as D1's unique index on it).
    fn email_taken(&self, connection: &str, email: Option<&str>, user_id: &str) -> bool {
        let Some(email) = email else { return false };
        let key = crate::model::email::key(email);
        self.users.borrow().iter().any(|u| {
            u.user_id != user_id
                && u.connection == connection
                && u.email
                    .as_deref()
                    .is_some_and(|e| crate::model::email::key(e) == key)
        })
    }

    /// Records a successful login: forgets its attempts, counts it, stores a rehash.
    fn record_login(&self, login: &Login, now: u64) {
        self.attempts
            .borrow_mut()
            .remove(&(login.user_key.clone(), login.ip.clone()));
        if let Some(u) = self
            .users
            .borrow_mut()
            .iter_mut()
            .find(|u| u.user_id == login.user_id)
        {
            u.last_login = Some(now);
            u.logins_count += 1;
            if let Some(hash) = &login.rehash {
                u.password_hash = Some(hash.clone());
            }
        }
    }

    /// The roles of `user_id` (global, plus within `org_id`) and their permissions on
    /// `audience`, sorted and without duplicates.
    fn access(&self, user_id: &str, org_id: Option<&str>, audience: Option<&str>) -> UserAccess {
        let roles = self.roles.borrow();
        let mut access = UserAccess::default();
        for (u, role_id, org) in self.user_roles.borrow().iter() {
            if u != user_id || !(org.is_empty() || Some(org.as_str()) == org_id) {
                continue;
            }
            let Some((role, perms)) = roles.iter().find(|(r, _)| r.role_id == *role_id) else {
                continue;
            };
            access.roles.push(role.name.clone());
            for (aud, perm) in perms {
                if Some(aud.as_str()) == audience {
                    access.permissions.push(perm.clone());
                }
            }
        }
        access.roles.sort();
        access.roles.dedup();
        access.permissions.sort();
        access.permissions.dedup();
        access
    }

    /// Storage round trips so far that a warm Worker makes too: each port call from outside
    /// the store counts once (on D1 each is one statement or one batch), except the reads in
    /// [`MemoryStore::cached_reads`]. Tests pin the count of each flow with it.
    pub fn round_trips(&self) -> u32 {
        self.round_trips.get()
    }

    /// Reads so far that a warm Worker isolate answers from its memory (`edge::isolate_cache`)
    /// without a storage call: clients, APIs, registered origins, each trigger's rules and
    /// hooks, and the published keys.
    pub fn cached_reads(&self) -> u32 {
        self.cached_reads.get()
    }

    /// Counts a port call unless another port call of this store is making it.
    fn round_trip(&self) -> Result<Depth, StoreError> {
        self.count(&self.round_trips)
    }

    /// Counts a read the Worker serves from memory when warm (see [`MemoryStore::round_trip`]).
    fn cached_read(&self) -> Result<Depth, StoreError> {
        self.count(&self.cached_reads)
    }

    /// Port calls from outside so far, of every kind: what [`MemoryStore::fail_call`] counts.
    pub fn calls(&self) -> u32 {
        self.round_trips.get() + self.cached_reads.get()
    }

    /// Fault injection: the port call from outside numbered `n` (as [`MemoryStore::calls`]
    /// counts them, from 1) fails with a backend error before it reads or writes anything,
    /// as a D1 statement or batch that fails does. `None` stops failing.
    pub fn fail_call(&self, n: Option<u32>) {
        self.fail_at.set(n);
    }

    fn count(&self, counter: &std::cell::Cell<u32>) -> Result<Depth, StoreError> {
        if self.depth.get() == 0 {
            counter.set(counter.get() + 1);
            if self.fail_at.get() == Some(self.calls()) {
                return Err(StoreError::backend("memory", "injected failure"));
            }
        }
        self.depth.set(self.depth.get() + 1);
        Ok(Depth(self.depth.clone()))
    }

    /// The durable state a request may change, for comparing before and after one: every
    /// table except log events and the password attempt counters (which are counted before a
    /// password is checked, on purpose).
    pub fn durable_state(&self) -> String {
        let mut families: Vec<_> = self.families.borrow().clone().into_iter().collect();
        families.sort();
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.clients.borrow(),
            self.apis.borrow(),
            self.grants.borrow(),
            self.keys.borrow(),
            self.users.borrow(),
            self.refresh.borrow(),
            families,
            self.revoked_tokens.borrow(),
            self.rules.borrow(),
            self.hooks.borrow(),
            self.roles.borrow(),
            self.user_roles.borrow(),
            self.orgs.borrow(),
            self.members.borrow(),
            self.codes.borrow(),
            self.sessions.borrow(),
        )
    }

    /// Inserts or replaces a hook.
    pub fn put_hook(&self, hook: StoredHook) {
        let mut hooks = self.hooks.borrow_mut();
        hooks.retain(|h| h.hook_id != hook.hook_id);
        hooks.push(hook);
    }

    /// Defines a role with permissions given as (audience, permission).
    pub fn put_role(&self, role_id: &str, name: &str, permissions: &[(&str, &str)]) {
        let perms = permissions
            .iter()
            .map(|(a, p)| (a.to_string(), p.to_string()))
            .collect();
        let role = Role {
            role_id: role_id.to_string(),
            name: name.to_string(),
            description: None,
        };
        let mut roles = self.roles.borrow_mut();
        roles.retain(|(r, _)| r.role_id != role_id);
        roles.push((role, perms));
    }

    /// Gives a user a role, globally (`org_id` None) or within an organization.
    pub fn assign_role(&self, user_id: &str, role_id: &str, org_id: Option<&str>) {
        self.user_roles.borrow_mut().push((
            user_id.to_string(),
            role_id.to_string(),
            org_id.unwrap_or("").to_string(),
        ));
    }

    /// Takes a role away.
    pub fn unassign_role(&self, user_id: &str, role_id: &str) {
        self.user_roles
            .borrow_mut()
            .retain(|(u, r, _)| !(u == user_id && r == role_id));
    }

    /// Inserts an organization.
    pub fn put_org(&self, org: Organization) {
        self.orgs.borrow_mut().push(org);
    }

    /// Makes a user a member of an organization.
    pub fn add_member(&self, org_id: &str, user_id: &str) {
        self.members
            .borrow_mut()
            .push((org_id.to_string(), user_id.to_string()));
    }

    /// Makes every later commit fail with a storage error (until turned off), as a D1
    /// outage would.
    pub fn fail_commits(&self, on: bool) {
        self.failing_commits.set(on);
    }

    fn commit_allowed(&self) -> Result<(), StoreError> {
        if self.failing_commits.get() {
            return Err(StoreError::backend("memory", "commit failed (test outage)"));
        }
        Ok(())
    }

    /// Every refresh record, for assertions, as [`RefreshStore::find_refresh`] shows it.
    pub fn refresh_records(&self) -> Vec<RefreshRecord> {
        self.refresh
            .borrow()
            .iter()
            .map(|r| self.with_family(r))
            .collect()
    }

    /// A stored token with its family's revocation time.
    fn with_family(&self, r: &RefreshRecord) -> RefreshRecord {
        let revoked_at = self.families.borrow().get(&r.family_id).copied().flatten();
        RefreshRecord {
            revoked_at,
            ..r.clone()
        }
    }
}

impl ClientStore for MemoryStore {
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let _trip = self.cached_read()?;
        let clients = self.clients.borrow();
        let Some(mut client) = clients.iter().find(|c| c.client_id == client_id).cloned() else {
            return Ok(None);
        };
        // Joined like D1's query: grants whose API exists.
        let apis = self.apis.borrow();
        let grants = self.grants.borrow();
        client.grants = grants
            .iter()
            .filter(|g| g.client_id == client_id)
            .filter_map(|g| {
                let api = apis.iter().find(|a| a.identifier == g.audience)?;
                Some(ApiGrant {
                    api: api.clone(),
                    scopes: g.scopes.clone(),
                })
            })
            .collect();
        Ok(Some(client))
    }

    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        let _trip = self.cached_read()?;
        let apis = self.apis.borrow();
        Ok(apis.iter().find(|a| a.identifier == identifier).cloned())
    }

    async fn web_origin_registered(&self, origin: &str) -> Result<bool, StoreError> {
        let _trip = self.cached_read()?;
        let clients = self.clients.borrow();
        Ok(clients
            .iter()
            .any(|c| c.web_origins.iter().any(|o| o == origin)))
    }
}

impl UserStore for MemoryStore {
    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        let _trip = self.round_trip()?;
        Ok(self
            .users
            .borrow()
            .iter()
            .find(|u| u.user_id == user_id)
            .cloned())
    }

    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let id_taken = self
            .users
            .borrow()
            .iter()
            .any(|u| u.user_id == user.user_id);
        if id_taken || self.email_taken(&user.connection, user.email.as_deref(), "") {
            return Err(StoreError::Conflict("the user already exists".into()));
        }
        self.users.borrow_mut().push(user.clone());
        Ok(())
    }

    async fn update_user(
        &self,
        user_id: &str,
        changes: &UserChanges,
        now: u64,
    ) -> Result<Option<User>, StoreError> {
        let _trip = self.round_trip()?;
        let Some(current) = self
            .users
            .borrow()
            .iter()
            .find(|u| u.user_id == user_id)
            .cloned()
        else {
            return Ok(None);
        };
        let changed = changes.apply(&current, now);
        if changes.email.is_some()
            && self.email_taken(&changed.connection, changed.email.as_deref(), user_id)
        {
            return Err(StoreError::Conflict("the email is taken".into()));
        }
        let too_big = |v: &serde_json::Value| directory::metadata_bytes(v) > MAX_METADATA_BYTES;
        if too_big(&changed.user_metadata) || too_big(&changed.app_metadata) {
            return Ok(None);
        }
        // In place: the list order (insertion order) does not move.
        let mut users = self.users.borrow_mut();
        if let Some(u) = users.iter_mut().find(|u| u.user_id == user_id) {
            *u = changed.clone();
        }
        Ok(Some(changed))
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        Ok(self.drop_user(user_id))
    }

    async fn backfill_email_keys(&self, _limit: u32) -> Result<u32, StoreError> {
        // The memory store derives every key from the email when it compares.
        let _trip = self.round_trip()?;
        Ok(0)
    }

    async fn import_users(
        &self,
        users: &[User],
        upsert: bool,
    ) -> Result<Vec<Imported>, StoreError> {
        let _trip = self.round_trip()?;
        let mut outcomes = Vec::with_capacity(users.len());
        for u in users {
            let email = u.email.as_deref().unwrap_or("");
            let existing = self.users.borrow().iter().position(|x| {
                x.connection == u.connection
                    && x.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
            });
            let id_taken = self.users.borrow().iter().any(|x| x.user_id == u.user_id);
            outcomes.push(match existing {
                Some(i) if upsert => {
                    let mut all = self.users.borrow_mut();
                    let old = &all[i];
                    let replaced = User {
                        user_id: old.user_id.clone(),
                        created_at: old.created_at,
                        last_login: old.last_login,
                        logins_count: old.logins_count,
                        ..u.clone()
                    };
                    all[i] = replaced;
                    Imported::Updated
                }
                Some(_) => Imported::Duplicate,
                None if id_taken => Imported::Duplicate,
                // A look-alike of an existing address: D1's unique key index refuses it.
                None if self.email_taken(&u.connection, u.email.as_deref(), "") => {
                    Imported::Duplicate
                }
                None => {
                    self.users.borrow_mut().push(u.clone());
                    Imported::Inserted
                }
            });
        }
        Ok(outcomes)
    }

    async fn put_job(&self, job: &Job) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut jobs = self.jobs.borrow_mut();
        jobs.retain(|j| j.job_id != job.job_id);
        jobs.push(job.clone());
        Ok(())
    }

    async fn job(&self, job_id: &str) -> Result<Option<Job>, StoreError> {
        let _trip = self.round_trip()?;
        Ok(self
            .jobs
            .borrow()
            .iter()
            .find(|j| j.job_id == job_id)
            .cloned())
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Listed<User>, StoreError> {
        let _trip = self.round_trip()?;
        let mut found: Vec<User> = self
            .users
            .borrow()
            .iter()
            .filter(|u| query.filters.iter().all(|f| f.matches(u)))
            .cloned()
            .collect();
        if let Some((field, descending)) = query.sort {
            // A stable sort: ties stay in insertion order, as D1's `rowid` tie-break keeps them.
            found.sort_by(|a, b| {
                let order = sort_key(a, field).cmp(&sort_key(b, field));
                if descending {
                    order.reverse()
                } else {
                    order
                }
            });
        }
        Ok(page(found, query.paging))
    }
}

/// A user's value of a sort field, ordered as SQLite orders the column (NULL first).
fn sort_key(u: &User, field: UserSort) -> (Option<String>, Option<u64>) {
    match field {
        UserSort::CreatedAt => (None, Some(u.created_at)),
        UserSort::UpdatedAt => (None, Some(u.updated_at)),
        UserSort::LastLogin => (None, u.last_login),
        UserSort::LoginsCount => (None, Some(u.logins_count)),
        UserSort::Email => (u.email.clone(), None),
        UserSort::Name => (u.name.clone(), None),
        UserSort::UserId => (Some(u.user_id.clone()), None),
    }
}

impl AttemptStore for MemoryStore {
    async fn count_attempt(
        &self,
        user_key: &str,
        ip: &str,
        now: u64,
        policy: &LockoutPolicy,
    ) -> Result<u32, StoreError> {
        let _trip = self.round_trip()?;
        // The same decision as the D1 statement, taken while holding the borrow (atomic in a
        // single-threaded isolate).
        let mut attempts = self.attempts.borrow_mut();
        let entry = attempts
            .entry((user_key.to_string(), ip.to_string()))
            .or_insert((now, 0, 0));
        let (window_start, count, locked_until) = *entry;
        *entry = if locked_until > now {
            (
                window_start,
                count.max(policy.max_failures) + 1,
                locked_until,
            )
        } else if locked_until > 0 || window_start + policy.window_seconds <= now || count == 0 {
            (now, 1, lock_at(1, now, policy))
        } else {
            (window_start, count + 1, lock_at(count + 1, now, policy))
        };
        Ok(entry.1)
    }
}

/// The lock an attempt count sets: `now + lock_seconds` at the limit, else none.
fn lock_at(count: u32, now: u64, policy: &LockoutPolicy) -> u64 {
    if count >= policy.max_failures {
        now + policy.lock_seconds
    } else {
        0
    }
}

impl RefreshStore for MemoryStore {
    async fn insert_refresh(&self, record: &RefreshRecord) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut families = self.families.borrow_mut();
        let revoked = families
            .entry(record.family_id.clone())
            .or_insert(None)
            .is_some();
        if revoked {
            return Ok(false);
        }
        let mut all = self.refresh.borrow_mut();
        if all.iter().any(|r| r.token_hash == record.token_hash) {
            return Err(StoreError::Conflict("refresh token hash collision".into()));
        }
        all.push(RefreshRecord {
            revoked_at: None,
            ..record.clone()
        });
        Ok(true)
    }

    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        let _trip = self.round_trip()?;
        let all = self.refresh.borrow();
        Ok(all
            .iter()
            .find(|r| r.token_hash == token_hash)
            .map(|r| self.with_family(r)))
    }

    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        if let Some(revoked) = self.families.borrow_mut().get_mut(family_id) {
            revoked.get_or_insert(now);
        }
        let mut listed = self.revoked_tokens.borrow_mut();
        for r in self
            .refresh
            .borrow()
            .iter()
            .filter(|r| r.family_id == family_id)
        {
            if let (Some(jti), Some(exp)) = (&r.access_jti, r.access_expires_at) {
                if exp > now && !listed.contains_key(jti) {
                    let entry = RevokedToken {
                        jti: jti.clone(),
                        expires_at: exp,
                        revoked_at: now,
                    };
                    listed.insert(jti.clone(), entry);
                }
            }
        }
        Ok(())
    }

    async fn access_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        Ok(self.revoked_tokens.borrow().contains_key(jti))
    }

    async fn revoked_access_tokens(&self, now: u64) -> Result<Vec<RevokedToken>, StoreError> {
        let _trip = self.round_trip()?;
        let listed = self.revoked_tokens.borrow();
        Ok(listed
            .values()
            .filter(|r| r.expires_at > now)
            .cloned()
            .collect())
    }

    async fn prune_revoked_access_tokens(&self, now: u64) -> Result<u32, StoreError> {
        let _trip = self.round_trip()?;
        let mut listed = self.revoked_tokens.borrow_mut();
        let before = listed.len();
        listed.retain(|_, r| r.expires_at > now);
        Ok((before - listed.len()) as u32)
    }
}

impl ExchangeStore for MemoryStore {
    async fn commit_login(
        &self,
        login: &Login,
        now: u64,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        self.commit_allowed()?;
        if let Some(r) = refresh {
            // A new family: it cannot be revoked yet, so the insert cannot be refused.
            self.insert_refresh(r).await?;
        }
        self.record_login(login, now);
        Ok(())
    }

    async fn commit_rotation(
        &self,
        token_hash: &str,
        client_id: &str,
        now: u64,
        next: &RefreshRecord,
    ) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        self.commit_allowed()?;
        {
            let families = self.families.borrow();
            let mut all = self.refresh.borrow_mut();
            let Some(r) = all.iter_mut().find(|r| {
                r.token_hash == token_hash
                    && r.client_id == client_id
                    && r.used_at.is_none()
                    && families.get(&r.family_id).is_some_and(Option::is_none)
                    && r.idle_expires_at > now
                    && r.absolute_expires_at > now
            }) else {
                return Ok(false);
            };
            r.used_at = Some(now);
        }
        self.insert_refresh(next).await
    }

    async fn commit_authorization(&self, sign_in: &SignIn<'_>, now: u64) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        self.commit_allowed()?;
        if let Some(user) = sign_in.new_user {
            if self.email_taken(&user.connection, user.email.as_deref(), "") {
                return Err(StoreError::Conflict("the email is taken".into()));
            }
        }
        if let Some(code) = sign_in.code {
            self.insert_code(code).await?;
        }
        if let Some(user) = sign_in.new_user {
            self.put_user(user.clone());
        }
        if let Some(login) = sign_in.login {
            self.record_login(login, now);
        }
        if let Some(s) = sign_in.session {
            self.sessions.borrow_mut().push(s.clone());
        }
        if let Some(s) = sign_in.touched {
            self.touch_session(&s.session_id, s.idle_expires_at).await?;
        }
        Ok(())
    }

    async fn commit_redemption(
        &self,
        code_hash: &str,
        client_id: &str,
        now: u64,
        access: &IssuedAccess,
        refresh: Option<&RefreshRecord>,
    ) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        self.commit_allowed()?;
        {
            let mut codes = self.codes.borrow_mut();
            let Some(code) = codes.iter_mut().find(|c| {
                c.code_hash == code_hash
                    && c.client_id == client_id
                    && c.used_at.is_none()
                    && c.expires_at > now
            }) else {
                return Ok(false);
            };
            code.used_at = Some(now);
            code.family_id = refresh.map(|r| r.family_id.clone());
        }
        let access = access.clone();
        self.code_access
            .borrow_mut()
            .insert(code_hash.to_string(), access);
        if let Some(r) = refresh {
            // A new family: it cannot be revoked yet, so the insert cannot be refused.
            self.insert_refresh(r).await?;
        }
        Ok(true)
    }
}

impl CodeStore for MemoryStore {
    async fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut codes = self.codes.borrow_mut();
        if codes.iter().any(|c| c.code_hash == code.code_hash) {
            return Err(StoreError::Conflict(
                "authorization code hash collision".into(),
            ));
        }
        codes.push(code.clone());
        Ok(())
    }

    async fn find_code(&self, code_hash: &str) -> Result<Option<AuthorizationCode>, StoreError> {
        let _trip = self.round_trip()?;
        let codes = self.codes.borrow();
        Ok(codes.iter().find(|c| c.code_hash == code_hash).cloned())
    }

    async fn revoke_code(&self, code_hash: &str, now: u64) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let family = {
            let codes = self.codes.borrow();
            match codes
                .iter()
                .find(|c| c.code_hash == code_hash && c.used_at.is_some())
            {
                Some(code) => code.family_id.clone(),
                None => return Ok(()),
            }
        };
        if let Some(access) = self.code_access.borrow().get(code_hash) {
            if access.expires_at > now {
                let entry = RevokedToken {
                    jti: access.jti.clone(),
                    expires_at: access.expires_at,
                    revoked_at: now,
                };
                let mut listed = self.revoked_tokens.borrow_mut();
                listed.entry(access.jti.clone()).or_insert(entry);
            }
        }
        match family {
            Some(family) => self.revoke_family(&family, now).await,
            None => Ok(()),
        }
    }
}

impl SessionStore for MemoryStore {
    async fn session(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        let _trip = self.round_trip()?;
        let sessions = self.sessions.borrow();
        Ok(sessions
            .iter()
            .find(|s| s.session_id == session_id)
            .cloned())
    }

    async fn touch_session(
        &self,
        session_id: &str,
        idle_expires_at: u64,
    ) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut sessions = self.sessions.borrow_mut();
        for s in sessions.iter_mut().filter(|s| s.session_id == session_id) {
            s.idle_expires_at = idle_expires_at.min(s.absolute_expires_at);
        }
        Ok(())
    }

    async fn delete_session(&self, session_id: &str) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        self.sessions
            .borrow_mut()
            .retain(|s| s.session_id != session_id);
        Ok(())
    }

    async fn user_sessions(
        &self,
        user_id: &str,
        paging: Paging,
    ) -> Result<Listed<Session>, StoreError> {
        let _trip = self.round_trip()?;
        let sessions = self.sessions.borrow();
        let mine = sessions.iter().filter(|s| s.user_id == user_id).cloned();
        Ok(page(mine.collect(), paging))
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        self.sessions.borrow_mut().retain(|s| s.user_id != user_id);
        Ok(())
    }
}

impl ClaimsStore for MemoryStore {
    async fn pipeline(&self, trigger: &str) -> Result<(Vec<Rule>, Vec<StoredHook>), StoreError> {
        let _trip = self.cached_read()?;
        let mut rules: Vec<Rule> = self
            .rules
            .borrow()
            .iter()
            .filter(|r| r.trigger.as_str() == trigger && r.enabled)
            .cloned()
            .collect();
        rules.sort_by(|a, b| (a.position, &a.rule_id).cmp(&(b.position, &b.rule_id)));
        let mut hooks: Vec<StoredHook> = self
            .hooks
            .borrow()
            .iter()
            .filter(|h| h.trigger.as_str() == trigger && h.enabled)
            .cloned()
            .collect();
        hooks.sort_by(|a, b| (a.position, &a.hook_id).cmp(&(b.position, &b.hook_id)));
        Ok((rules, hooks))
    }

    async fn put_rule(&self, rule: &Rule) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut rules = self.rules.borrow_mut();
        rules.retain(|r| r.rule_id != rule.rule_id);
        rules.push(rule.clone());
        Ok(())
    }

    async fn rules(&self) -> Result<Vec<Rule>, StoreError> {
        let _trip = self.round_trip()?;
        let mut rules = self.rules.borrow().clone();
        rules.sort_by(|a, b| {
            (a.trigger.as_str(), a.position, &a.rule_id).cmp(&(
                b.trigger.as_str(),
                b.position,
                &b.rule_id,
            ))
        });
        Ok(rules)
    }

    async fn delete_rule(&self, rule_id: &str) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut rules = self.rules.borrow_mut();
        let before = rules.len();
        rules.retain(|r| r.rule_id != rule_id);
        Ok(rules.len() < before)
    }

    async fn hooks(&self) -> Result<Vec<StoredHook>, StoreError> {
        let _trip = self.round_trip()?;
        let mut hooks = self.hooks.borrow().clone();
        hooks.sort_by(|a, b| {
            (a.trigger.as_str(), a.position, &a.hook_id).cmp(&(
                b.trigger.as_str(),
                b.position,
                &b.hook_id,
            ))
        });
        Ok(hooks)
    }

    async fn put_hook(&self, hook: &StoredHook) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        MemoryStore::put_hook(self, hook.clone());
        Ok(())
    }

    async fn delete_hook(&self, hook_id: &str) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut hooks = self.hooks.borrow_mut();
        let before = hooks.len();
        hooks.retain(|h| h.hook_id != hook_id);
        Ok(hooks.len() < before)
    }
}

impl SubjectStore for MemoryStore {
    async fn bearer_subject(
        &self,
        jti: &str,
        key: UserKey<'_>,
        organization: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Option<Subject>, StoreError> {
        let _trip = self.round_trip()?;
        if self.revoked_tokens.borrow().contains_key(jti) {
            return Ok(None);
        }
        self.subject(key, organization, audience).await.map(Some)
    }

    async fn subject(
        &self,
        key: UserKey<'_>,
        organization: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Subject, StoreError> {
        let _trip = self.round_trip()?;
        let user = {
            let users = self.users.borrow();
            let found = users.iter().find(|u| match key {
                UserKey::Id(id) => u.user_id == id,
                UserKey::Email {
                    connection,
                    email_lower,
                } => {
                    u.connection == connection
                        && u.email.as_deref().map(str::to_ascii_lowercase).as_deref()
                            == Some(email_lower)
                }
            });
            found.cloned()
        };
        // By id, else by name, as D1 orders them.
        let organization = organization.and_then(|o| {
            let orgs = self.orgs.borrow();
            orgs.iter()
                .find(|g| g.org_id == o)
                .or_else(|| orgs.iter().find(|g| g.name == o))
                .cloned()
        });
        let Some(user_id) = user.as_ref().map(|u| u.user_id.clone()) else {
            return Ok(Subject {
                organization,
                ..Subject::default()
            });
        };
        let org_id = organization.as_ref().map(|o| o.org_id.as_str());
        let member = org_id.is_some_and(|o| {
            let members = self.members.borrow();
            members.iter().any(|(m, u)| m == o && *u == user_id)
        });
        let access = self.access(&user_id, org_id, audience);
        Ok(Subject {
            user,
            organization,
            member,
            access,
        })
    }

    async fn refresh_subject(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshRecord, Subject)>, StoreError> {
        let _trip = self.round_trip()?;
        let Some(record) = self.find_refresh(token_hash).await? else {
            return Ok(None);
        };
        let subject = self
            .subject(
                UserKey::Id(&record.user_id),
                record.org_id.as_deref(),
                record.audience.as_deref(),
            )
            .await?;
        Ok(Some((record, subject)))
    }

    async fn code_subject(
        &self,
        code_hash: &str,
    ) -> Result<Option<(AuthorizationCode, Subject)>, StoreError> {
        let _trip = self.round_trip()?;
        let Some(code) = self.find_code(code_hash).await? else {
            return Ok(None);
        };
        let subject = self
            .subject(
                UserKey::Id(&code.user_id),
                code.org_id.as_deref(),
                code.audience.as_deref(),
            )
            .await?;
        Ok(Some((code, subject)))
    }
}

// The memory store is every port at once.
impl HasSubjects for MemoryStore {
    fn subjects(&self) -> &impl SubjectStore {
        self
    }
}

impl HasCodes for MemoryStore {
    fn codes(&self) -> &impl CodeStore {
        self
    }
}

impl HasSessions for MemoryStore {
    fn sessions(&self) -> &impl SessionStore {
        self
    }
}

impl HasClients for MemoryStore {
    fn clients(&self) -> &impl ClientStore {
        self
    }
}

impl HasKeys for MemoryStore {
    fn keys(&self) -> &impl KeyStore {
        self
    }
}

impl HasUsers for MemoryStore {
    fn users(&self) -> &impl UserStore {
        self
    }
}

impl HasAttempts for MemoryStore {
    fn attempts(&self) -> &impl AttemptStore {
        self
    }
}

impl HasRefresh for MemoryStore {
    fn refresh(&self) -> &impl RefreshStore {
        self
    }
}

impl HasExchange for MemoryStore {
    fn exchange(&self) -> &impl ExchangeStore {
        self
    }
}

impl HasClaims for MemoryStore {
    fn claims(&self) -> &impl ClaimsStore {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_before_verifying_and_the_lock_holds() {
        let store = MemoryStore::new();
        let policy = LockoutPolicy {
            max_failures: 3,
            window_seconds: 100,
            lock_seconds: 50,
        };
        let count = |now| pollster::block_on(store.count_attempt("u", "ip", now, &policy)).unwrap();
        assert_eq!([count(10), count(10), count(20)], [1, 2, 3]);
        // Locked until 70: every further attempt is past the limit, however many.
        assert_eq!([count(21), count(22), count(69)], [4, 5, 6]);
        let other = pollster::block_on(store.count_attempt("u", "other-ip", 21, &policy));
        assert_eq!(other.unwrap(), 1, "another IP counts apart");
        // The lock expired: a new window.
        assert_eq!(count(70), 1);
        // A window older than 100 s restarts too.
        assert_eq!([count(80), count(171)], [2, 1]);
        let login = Login {
            user_id: "nobody".into(),
            user_key: "u".into(),
            ip: "ip".into(),
            rehash: None,
        };
        pollster::block_on(store.commit_login(&login, 172, None)).unwrap();
        assert_eq!(count(172), 1, "a login forgets the attempts");
    }

    fn refresh(hash: &str, family: &str) -> RefreshRecord {
        RefreshRecord {
            token_hash: hash.into(),
            family_id: family.into(),
            client_id: "c".into(),
            user_id: "u".into(),
            audience: None,
            scope: "offline_access".into(),
            auth_time: 1,
            created_at: 1,
            idle_expires_at: 100,
            absolute_expires_at: 100,
            used_at: None,
            revoked_at: None,
            org_id: None,
            access_jti: Some(format!("{hash}-at")),
            access_expires_at: Some(100),
        }
    }

    #[test]
    fn revoked_access_tokens_are_pruned_once_expired() {
        let store = MemoryStore::new();
        pollster::block_on(async {
            store.insert_refresh(&refresh("a", "f")).await.unwrap();
            store.revoke_family("f", 50).await.unwrap();
            assert!(store.access_revoked("a-at").await.unwrap());
            assert_eq!(store.prune_revoked_access_tokens(99).await.unwrap(), 0);
            assert_eq!(store.prune_revoked_access_tokens(100).await.unwrap(), 1);
            assert!(!store.access_revoked("a-at").await.unwrap());
        });
    }

    #[test]
    fn a_revoked_family_takes_no_new_token_and_keeps_none_alive() {
        let store = MemoryStore::new();
        pollster::block_on(async {
            assert!(store.insert_refresh(&refresh("a", "f")).await.unwrap());
            assert!(store.insert_refresh(&refresh("x", "g")).await.unwrap());
            store.revoke_family("f", 5).await.unwrap();
            assert!(!store.insert_refresh(&refresh("b", "f")).await.unwrap());
            assert!(!store
                .commit_rotation("a", "c", 6, &refresh("c", "f"))
                .await
                .unwrap());
            assert_eq!(
                store.find_refresh("a").await.unwrap().unwrap().revoked_at,
                Some(5)
            );
            store.revoke_family("f", 9).await.unwrap();
            assert_eq!(
                store.find_refresh("a").await.unwrap().unwrap().revoked_at,
                Some(5),
                "the first revocation time stays"
            );
            // Another family rotates, once.
            assert!(store
                .commit_rotation("x", "c", 6, &refresh("y", "g"))
                .await
                .unwrap());
            assert!(!store
                .commit_rotation("x", "c", 7, &refresh("z", "g"))
                .await
                .unwrap());
        });
        assert_eq!(store.refresh_records().len(), 3);
    }
}
