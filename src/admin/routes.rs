//! The management API's route table on one screen: method, path, the scope a machine client
//! needs, the scope that lets a user act on their own profile instead, and what it does. A
//! known path with another method is 405 with `Allow`; an unknown path is 404.

use super::auth::authorize;
use super::call::{route, Call, Op, Route};
use super::error::{error_code, Reply};
use super::guardian;
use super::users::links;
use super::{client_grants as grants, clients, connections, resource_servers as apis};
use super::{
    emails, explain, hooks, jobs, keys, logs, organizations as orgs, roles, rules, users, Request,
};
use crate::model::mail::TicketKind;
use crate::oauth::issuer::Issuer;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::Stores;
use percent_encoding::percent_decode_str;

/// A route handler's answer, to be awaited.
type Handler<'f> = std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + 'f>>;

/// Every management route, one per line.
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    route("GET", "/api/v2/users", "read:users", Op::ListUsers),
    route("POST", "/api/v2/users", "create:users", Op::CreateUser),
    Route { self_scope: Some("read:current_user"), ..route("GET", "/api/v2/users/{id}", "read:users", Op::GetUser) },
    Route { self_scope: Some("update:current_user_metadata"), ..route("PATCH", "/api/v2/users/{id}", "update:users", Op::UpdateUser) },
    route("DELETE", "/api/v2/users/{id}", "delete:users", Op::DeleteUser),
    route("GET", "/api/v2/users-by-email", "read:users", Op::UsersByEmail),
    route("GET", "/api/v2/users/{id}/roles", "read:users", Op::UserRoles),
    route("POST", "/api/v2/users/{id}/roles", "update:users", Op::ChangeRoles),
    route("DELETE", "/api/v2/users/{id}/roles", "update:users", Op::ChangeRoles),
    route("GET", "/api/v2/users/{id}/permissions", "read:users", Op::UserPermissions),
    route("GET", "/api/v2/users/{id}/organizations", "read:users", Op::UserOrganizations),
    route("POST", "/api/v2/users/{id}/identities", "update:users", Op::LinkIdentity),
    route("DELETE", "/api/v2/users/{id}/identities/{id}/{id}", "update:users", Op::UnlinkIdentity),
    route("GET", "/api/v2/users/{id}/authentication-methods", "read:authentication_methods", Op::AuthenticationMethods),
    route("DELETE", "/api/v2/users/{id}/authentication-methods/{id}", "delete:authentication_methods", Op::DeleteAuthenticationMethod),
    route("DELETE", "/api/v2/users/{id}/authenticators", "delete:guardian_enrollments", Op::ResetAuthenticators),
    route("POST", "/api/v2/users/{id}/recovery-code-regeneration", "update:users", Op::RegenerateRecoveryCode),
    route("POST", "/api/v2/users/{id}/multifactor/actions/invalidate-remember-browser", "update:users", Op::ForgetBrowsers),
    route("GET", "/api/v2/users/{id}/sessions", "read:sessions", Op::UserSessions),
    route("DELETE", "/api/v2/users/{id}/sessions", "delete:sessions", Op::DeleteUserSessions),
    route("GET", "/api/v2/roles", "read:roles", Op::ListRoles),
    route("POST", "/api/v2/roles", "create:roles", Op::CreateRole),
    route("GET", "/api/v2/roles/{id}", "read:roles", Op::GetRole),
    route("PATCH", "/api/v2/roles/{id}", "update:roles", Op::UpdateRole),
    route("DELETE", "/api/v2/roles/{id}", "delete:roles", Op::DeleteRole),
    route("GET", "/api/v2/roles/{id}/permissions", "read:roles", Op::RolePermissions),
    route("POST", "/api/v2/roles/{id}/permissions", "update:roles", Op::AddRolePermissions),
    route("DELETE", "/api/v2/roles/{id}/permissions", "update:roles", Op::RemoveRolePermissions),
    route("GET", "/api/v2/roles/{id}/users", "read:roles", Op::RoleUsers),
    route("POST", "/api/v2/roles/{id}/users", "update:roles", Op::AssignRoleUsers),
    route("GET", "/api/v2/organizations", "read:organizations", Op::ListOrganizations),
    route("POST", "/api/v2/organizations", "create:organizations", Op::CreateOrganization),
    route("GET", "/api/v2/organizations/name/{id}", "read:organizations", Op::GetOrganizationByName),
    route("GET", "/api/v2/organizations/{id}", "read:organizations", Op::GetOrganization),
    route("PATCH", "/api/v2/organizations/{id}", "update:organizations", Op::UpdateOrganization),
    route("DELETE", "/api/v2/organizations/{id}", "delete:organizations", Op::DeleteOrganization),
    route("GET", "/api/v2/organizations/{id}/members", "read:organization_members", Op::Members),
    route("POST", "/api/v2/organizations/{id}/members", "create:organization_members", Op::AddMembers),
    route("DELETE", "/api/v2/organizations/{id}/members", "delete:organization_members", Op::RemoveMembers),
    route("GET", "/api/v2/organizations/{id}/members/{id}/roles", "read:organization_member_roles", Op::MemberRoles),
    route("POST", "/api/v2/organizations/{id}/members/{id}/roles", "create:organization_member_roles", Op::ChangeRoles),
    route("DELETE", "/api/v2/organizations/{id}/members/{id}/roles", "delete:organization_member_roles", Op::ChangeRoles),
    route("GET", "/api/v2/clients", "read:clients", Op::ListClients),
    route("POST", "/api/v2/clients", "create:clients", Op::CreateClient),
    route("GET", "/api/v2/clients/{id}", "read:clients", Op::GetClient),
    route("PATCH", "/api/v2/clients/{id}", "update:clients", Op::UpdateClient),
    route("DELETE", "/api/v2/clients/{id}", "delete:clients", Op::DeleteClient),
    route("POST", "/api/v2/clients/{id}/rotate-secret", "update:client_keys", Op::RotateSecret),
    route("GET", "/api/v2/client-grants", "read:client_grants", Op::ListClientGrants),
    route("POST", "/api/v2/client-grants", "create:client_grants", Op::CreateClientGrant),
    route("PATCH", "/api/v2/client-grants/{id}", "update:client_grants", Op::UpdateClientGrant),
    route("DELETE", "/api/v2/client-grants/{id}", "delete:client_grants", Op::DeleteClientGrant),
    route("GET", "/api/v2/resource-servers", "read:resource_servers", Op::ListResourceServers),
    route("POST", "/api/v2/resource-servers", "create:resource_servers", Op::CreateResourceServer),
    route("GET", "/api/v2/resource-servers/{id}", "read:resource_servers", Op::GetResourceServer),
    route("PATCH", "/api/v2/resource-servers/{id}", "update:resource_servers", Op::UpdateResourceServer),
    route("DELETE", "/api/v2/resource-servers/{id}", "delete:resource_servers", Op::DeleteResourceServer),
    route("GET", "/api/v2/connections", "read:connections", Op::ListConnections),
    route("POST", "/api/v2/connections", "create:connections", Op::CreateConnection),
    route("GET", "/api/v2/connections/{id}", "read:connections", Op::GetConnection),
    route("PATCH", "/api/v2/connections/{id}", "update:connections", Op::UpdateConnection),
    route("DELETE", "/api/v2/connections/{id}", "delete:connections", Op::DeleteConnection),
    route("GET", "/api/v2/connections/{id}/clients", "read:connections", Op::ConnectionClients),
    route("PATCH", "/api/v2/connections/{id}/clients", "update:connections", Op::SetConnectionClients),
    route("GET", "/api/v2/rules", "read:rules", Op::ListRules),
    route("POST", "/api/v2/rules", "create:rules", Op::CreateRule),
    route("GET", "/api/v2/rules/{id}", "read:rules", Op::GetRule),
    route("PUT", "/api/v2/rules/{id}", "update:rules", Op::PutRule),
    route("PATCH", "/api/v2/rules/{id}", "update:rules", Op::PatchRule),
    route("DELETE", "/api/v2/rules/{id}", "delete:rules", Op::DeleteRule),
    route("GET", "/api/v2/hooks", "read:hooks", Op::ListHooks),
    route("POST", "/api/v2/hooks", "create:hooks", Op::CreateHook),
    route("GET", "/api/v2/hooks/{id}", "read:hooks", Op::GetHook),
    route("PATCH", "/api/v2/hooks/{id}", "update:hooks", Op::PatchHook),
    route("DELETE", "/api/v2/hooks/{id}", "delete:hooks", Op::DeleteHook),
    route("POST", "/api/v2/jobs/users-imports", "create:users", Op::ImportUsers),
    route("POST", "/api/v2/jobs/verification-email", "update:users", Op::VerificationEmail),
    route("GET", "/api/v2/jobs/{id}", "read:users", Op::GetJob),
    route("GET", "/api/v2/jobs/{id}/errors", "read:users", Op::GetJobErrors),
    route("GET", "/api/v2/logs", "read:logs", Op::ListLogs),
    route("GET", "/api/v2/logs/{id}", "read:logs", Op::GetLog),
    route("POST", "/api/v2/claims/explain", "read:claims", Op::ExplainClaims),
    route("GET", "/api/v2/keys/signing", "read:signing_keys", Op::ListSigningKeys),
    route("POST", "/api/v2/keys/signing/rotate", "create:signing_keys", Op::RotateSigningKeys),
    route("GET", "/api/v2/keys/signing/{id}", "read:signing_keys", Op::GetSigningKey),
    route("PUT", "/api/v2/keys/signing/{id}/revoke", "update:signing_keys", Op::RevokeSigningKey),
    route("POST", "/api/v2/keys/encryption/rekey", "update:encryption_keys", Op::Rekey),
    route("GET", "/api/v2/emails/provider", "read:email_provider", Op::GetEmailProvider),
    route("POST", "/api/v2/emails/provider", "create:email_provider", Op::CreateEmailProvider),
    route("PATCH", "/api/v2/emails/provider", "update:email_provider", Op::UpdateEmailProvider),
    route("DELETE", "/api/v2/emails/provider", "delete:email_provider", Op::DeleteEmailProvider),
    route("POST", "/api/v2/email-templates", "create:email_templates", Op::SaveEmailTemplate),
    route("GET", "/api/v2/email-templates/{id}", "read:email_templates", Op::GetEmailTemplate),
    route("PUT", "/api/v2/email-templates/{id}", "update:email_templates", Op::SaveEmailTemplate),
    route("PATCH", "/api/v2/email-templates/{id}", "update:email_templates", Op::SaveEmailTemplate),
    route("GET", "/api/v2/guardian/factors", "read:guardian_factors", Op::ListFactors),
    route("PUT", "/api/v2/guardian/factors/{id}", "update:guardian_factors", Op::SetFactor),
    route("GET", "/api/v2/guardian/policies", "read:mfa_policies", Op::GetPolicies),
    route("PUT", "/api/v2/guardian/policies", "update:mfa_policies", Op::SetPolicies),
    route("GET", "/api/v2/guardian/settings", "read:guardian_factors", Op::GuardianSettings),
    route("PUT", "/api/v2/guardian/settings", "update:guardian_factors", Op::GuardianSettings),
    route("POST", "/api/v2/tickets/email-verification", "create:user_tickets", Op::VerificationTicket),
    route("POST", "/api/v2/tickets/password-change", "create:user_tickets", Op::PasswordTicket),
];

/// The methods browser code may call on `path` across origins: those of the self-service
/// routes it matches (a user's own token from an SPA), none for every other management route
/// (admin tokens belong on servers, never in a browser).
pub fn browser_methods(path: &str) -> Option<String> {
    let methods: Vec<&str> = ROUTES
        .iter()
        .filter(|r| r.self_scope.is_some() && matches(r.path, path).is_some())
        .map(|r| r.method)
        .collect();
    (!methods.is_empty()).then(|| methods.join(", "))
}

/// The path parameters of `path` if it has the shape of `pattern`.
fn matches(pattern: &str, path: &str) -> Option<Vec<String>> {
    let mut params = Vec::new();
    let (mut p, mut s) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), s.next()) {
            (None, None) => return Some(params),
            (Some("{id}"), Some(seg)) if !seg.is_empty() => {
                params.push(percent_decode_str(seg).decode_utf8().ok()?.into_owned());
            }
            (Some(a), Some(b)) if a == b => {}
            _ => return None,
        }
    }
}

/// Answers a request under `/api/v2/`.
pub async fn handle<P: Stores, C: Crypto>(issuer: &Issuer<'_, P, C>, req: &Request<'_>) -> Reply {
    let path = req
        .path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(req.path);
    let mut allowed: Vec<&str> = Vec::new();
    let mut found = None;
    for r in ROUTES {
        if let Some(params) = matches(r.path, path) {
            if r.method == req.method {
                found = Some((r, params));
                break;
            }
            allowed.push(r.method);
        }
    }
    let Some((route, params)) = found else {
        if allowed.is_empty() {
            return error_code(404, "not_found", "Not Found");
        }
        let allow = allowed.join(", ");
        return error_code(
            405,
            "method_not_allowed",
            &format!("Method not allowed; use {allow}"),
        )
        .with_header("allow", allow);
    };
    let id = params.first().map(String::as_str);
    let caller = attempt!(authorize(issuer, req, route, id).settle().await);
    let call = Call {
        issuer,
        req,
        caller,
        params,
    };
    let reply = dispatch(route.op, &call).await;
    // Writes are logged; the explain route's POST is a dry run, not a write.
    if route.method != "GET" && route.op != Op::ExplainClaims {
        logs::record_write(issuer, req, route, &call.caller, reply.status);
    }
    reply
}

/// The handler of `op`, as its own boxed future: each handler stays a function of its own
/// (inlined, every route made one 160 KB state-machine function, which no profile or size
/// report could take apart), and a request's future holds one handler's state, not room for
/// the largest of all.
fn dispatch<'f, P: Stores, C: Crypto>(op: Op, call: &'f Call<'_, '_, P, C>) -> Handler<'f> {
    match op {
        Op::ListUsers => Box::pin(users::list(call).settle()),
        Op::CreateUser => Box::pin(users::create(call).settle()),
        Op::GetUser => Box::pin(users::get(call).settle()),
        Op::UpdateUser => Box::pin(users::update(call).settle()),
        Op::DeleteUser => Box::pin(users::delete(call).settle()),
        Op::UsersByEmail => Box::pin(users::by_email(call).settle()),
        Op::UserRoles => Box::pin(links::roles(call).settle()),
        Op::ChangeRoles => Box::pin(links::change_roles(call).settle()),
        Op::UserPermissions => Box::pin(links::permissions(call).settle()),
        Op::UserOrganizations => Box::pin(links::organizations(call).settle()),
        Op::LinkIdentity => Box::pin(users::identities::link(call).settle()),
        Op::UnlinkIdentity => Box::pin(users::identities::unlink(call).settle()),
        Op::UserSessions => Box::pin(links::sessions(call).settle()),
        Op::AuthenticationMethods => Box::pin(guardian::methods(call).settle()),
        Op::DeleteAuthenticationMethod => Box::pin(guardian::delete_method(call).settle()),
        Op::ResetAuthenticators => Box::pin(guardian::reset(call).settle()),
        Op::RegenerateRecoveryCode => Box::pin(guardian::regenerate(call).settle()),
        Op::ListFactors => Box::pin(guardian::factors(call).settle()),
        Op::SetFactor => Box::pin(guardian::set_factor(call).settle()),
        Op::GetPolicies => Box::pin(guardian::policies(call).settle()),
        Op::SetPolicies => Box::pin(guardian::set_policies(call).settle()),
        Op::GuardianSettings => Box::pin(guardian::settings(call).settle()),
        Op::ForgetBrowsers => Box::pin(guardian::forget_browsers(call).settle()),
        Op::DeleteUserSessions => Box::pin(links::delete_sessions(call).settle()),
        Op::ListConnections => Box::pin(connections::list(call).settle()),
        Op::CreateConnection => Box::pin(connections::create(call).settle()),
        Op::GetConnection => Box::pin(connections::get(call).settle()),
        Op::UpdateConnection => Box::pin(connections::update(call).settle()),
        Op::DeleteConnection => Box::pin(connections::delete(call).settle()),
        Op::ConnectionClients => Box::pin(connections::clients(call).settle()),
        Op::SetConnectionClients => Box::pin(connections::set_clients(call).settle()),
        Op::ListRoles => Box::pin(roles::list(call).settle()),
        Op::CreateRole => Box::pin(roles::create(call).settle()),
        Op::GetRole => Box::pin(roles::get(call).settle()),
        Op::UpdateRole => Box::pin(roles::update(call).settle()),
        Op::DeleteRole => Box::pin(roles::delete(call).settle()),
        Op::RolePermissions => Box::pin(roles::permissions(call).settle()),
        Op::AddRolePermissions => Box::pin(roles::add_permissions(call).settle()),
        Op::RemoveRolePermissions => Box::pin(roles::remove_permissions(call).settle()),
        Op::RoleUsers => Box::pin(roles::users(call).settle()),
        Op::AssignRoleUsers => Box::pin(roles::assign_users(call).settle()),
        Op::ListOrganizations => Box::pin(orgs::list(call).settle()),
        Op::CreateOrganization => Box::pin(orgs::create(call).settle()),
        Op::GetOrganization => Box::pin(orgs::get(call).settle()),
        Op::GetOrganizationByName => Box::pin(orgs::get_by_name(call).settle()),
        Op::UpdateOrganization => Box::pin(orgs::update(call).settle()),
        Op::DeleteOrganization => Box::pin(orgs::delete(call).settle()),
        Op::Members => Box::pin(orgs::members(call).settle()),
        Op::AddMembers => Box::pin(orgs::add_members(call).settle()),
        Op::RemoveMembers => Box::pin(orgs::remove_members(call).settle()),
        Op::MemberRoles => Box::pin(orgs::member_roles(call).settle()),
        Op::ListClients => Box::pin(clients::list(call).settle()),
        Op::CreateClient => Box::pin(clients::create(call).settle()),
        Op::GetClient => Box::pin(clients::get(call).settle()),
        Op::UpdateClient => Box::pin(clients::update(call).settle()),
        Op::DeleteClient => Box::pin(clients::delete(call).settle()),
        Op::RotateSecret => Box::pin(clients::rotate_secret(call).settle()),
        Op::ListClientGrants => Box::pin(grants::list(call).settle()),
        Op::CreateClientGrant => Box::pin(grants::create(call).settle()),
        Op::UpdateClientGrant => Box::pin(grants::update(call).settle()),
        Op::DeleteClientGrant => Box::pin(grants::delete(call).settle()),
        Op::ListResourceServers => Box::pin(apis::list(call).settle()),
        Op::CreateResourceServer => Box::pin(apis::create(call).settle()),
        Op::GetResourceServer => Box::pin(apis::get(call).settle()),
        Op::UpdateResourceServer => Box::pin(apis::update(call).settle()),
        Op::DeleteResourceServer => Box::pin(apis::delete(call).settle()),
        Op::ListRules => Box::pin(rules::list(call).settle()),
        Op::CreateRule => Box::pin(rules::create(call).settle()),
        Op::GetRule => Box::pin(rules::get(call).settle()),
        Op::PutRule => Box::pin(rules::put_rule(call).settle()),
        Op::PatchRule => Box::pin(rules::patch(call).settle()),
        Op::DeleteRule => Box::pin(rules::delete(call).settle()),
        Op::ListHooks => Box::pin(hooks::list(call).settle()),
        Op::CreateHook => Box::pin(hooks::create(call).settle()),
        Op::GetHook => Box::pin(hooks::get(call).settle()),
        Op::PatchHook => Box::pin(hooks::patch(call).settle()),
        Op::DeleteHook => Box::pin(hooks::delete(call).settle()),
        Op::ImportUsers => Box::pin(jobs::import_users(call).settle()),
        Op::VerificationEmail => Box::pin(jobs::verification_email(call).settle()),
        Op::GetJob => Box::pin(jobs::get(call).settle()),
        Op::GetJobErrors => Box::pin(jobs::errors(call).settle()),
        Op::ListLogs => Box::pin(logs::list(call).settle()),
        Op::GetLog => Box::pin(logs::get(call).settle()),
        Op::ExplainClaims => Box::pin(explain::explain(call).settle()),
        Op::ListSigningKeys => Box::pin(keys::list(call).settle()),
        Op::GetSigningKey => Box::pin(keys::get(call).settle()),
        Op::RotateSigningKeys => Box::pin(keys::rotate(call).settle()),
        Op::RevokeSigningKey => Box::pin(keys::revoke(call).settle()),
        Op::Rekey => Box::pin(keys::rekey(call).settle()),
        Op::GetEmailProvider => Box::pin(emails::get_provider(call).settle()),
        Op::CreateEmailProvider => Box::pin(emails::create_provider(call).settle()),
        Op::UpdateEmailProvider => Box::pin(emails::update_provider(call).settle()),
        Op::DeleteEmailProvider => Box::pin(emails::delete_provider(call).settle()),
        Op::GetEmailTemplate => Box::pin(emails::get_template(call).settle()),
        Op::SaveEmailTemplate => Box::pin(emails::save_template(call).settle()),
        Op::VerificationTicket => Box::pin(emails::ticket(call, TicketKind::Verify).settle()),
        Op::PasswordTicket => Box::pin(emails::ticket(call, TicketKind::Reset).settle()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_segments_and_decode_ids() {
        assert_eq!(matches("/api/v2/users", "/api/v2/users"), Some(vec![]));
        assert_eq!(
            matches("/api/v2/users/{id}", "/api/v2/users/auth0%7Cabc"),
            Some(vec!["auth0|abc".to_string()])
        );
        assert_eq!(matches("/api/v2/users/{id}", "/api/v2/users/"), None);
        assert_eq!(matches("/api/v2/users/{id}", "/api/v2/users/a/b"), None);
        assert_eq!(matches("/api/v2/users", "/api/v2/users-by-email"), None);
        assert_eq!(matches("/api/v2/users/{id}", "/api/v2/users/%FF"), None);
    }

    #[test]
    fn only_the_self_service_routes_are_open_to_browsers() {
        assert_eq!(
            browser_methods("/api/v2/users/auth0%7Cabc").as_deref(),
            Some("GET, PATCH")
        );
        for path in [
            "/api/v2/users",
            "/api/v2/users/x/roles",
            "/api/v2/clients/x",
            "/api/v2/logs",
        ] {
            assert_eq!(browser_methods(path), None, "{path}");
        }
    }

    #[test]
    fn every_route_is_unique_and_scoped() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(a.path.starts_with("/api/v2/"), "{a:?}");
            assert!(a.scope.contains(':'), "{a:?}");
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{a:?} twice");
            }
        }
    }
}
