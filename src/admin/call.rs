//! One management route and one authorized call of it: what the route table lists and what
//! every handler takes.

use super::error::Reply;
use super::Request;
use crate::oauth::issuer::Issuer;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A machine client, acting on the whole tenant; `idp_tokens` when its token holds
    /// `read:user_idp_tokens` (a user's provider tokens are shown to it).
    Machine { client_id: String, idp_tokens: bool },
    /// A user, acting on their own profile only (self-service).
    User { user_id: String },
}

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    LinkIdentity,
    UnlinkIdentity,
    ListConnections,
    CreateConnection,
    GetConnection,
    UpdateConnection,
    DeleteConnection,
    ConnectionClients,
    SetConnectionClients,
    ListUsers,
    CreateUser,
    GetUser,
    UpdateUser,
    DeleteUser,
    UsersByEmail,
    UserRoles,
    ChangeRoles,
    UserPermissions,
    UserOrganizations,
    UserSessions,
    DeleteUserSessions,
    ListRoles,
    CreateRole,
    GetRole,
    UpdateRole,
    DeleteRole,
    RolePermissions,
    AddRolePermissions,
    RemoveRolePermissions,
    RoleUsers,
    AssignRoleUsers,
    ListOrganizations,
    CreateOrganization,
    GetOrganization,
    GetOrganizationByName,
    UpdateOrganization,
    DeleteOrganization,
    Members,
    AddMembers,
    RemoveMembers,
    MemberRoles,
    ListClients,
    CreateClient,
    GetClient,
    UpdateClient,
    DeleteClient,
    RotateSecret,
    ListClientGrants,
    CreateClientGrant,
    UpdateClientGrant,
    DeleteClientGrant,
    ListResourceServers,
    CreateResourceServer,
    GetResourceServer,
    UpdateResourceServer,
    DeleteResourceServer,
    ListRules,
    CreateRule,
    GetRule,
    PutRule,
    PatchRule,
    DeleteRule,
    ListHooks,
    CreateHook,
    GetHook,
    PatchHook,
    DeleteHook,
    ListLogs,
    GetLog,
    ImportUsers,
    VerificationEmail,
    GetJob,
    GetJobErrors,
    ExplainClaims,
    ListSigningKeys,
    GetSigningKey,
    RotateSigningKeys,
    RevokeSigningKey,
    Rekey,
    GetEmailProvider,
    ListFactors,
    SetFactor,
    GetPolicies,
    SetPolicies,
    GuardianSettings,
    ForgetBrowsers,
    AuthenticationMethods,
    DeleteAuthenticationMethod,
    ResetAuthenticators,
    RegenerateRecoveryCode,
    CreateEmailProvider,
    UpdateEmailProvider,
    DeleteEmailProvider,
    GetEmailTemplate,
    SaveEmailTemplate,
    VerificationTicket,
    PasswordTicket,
}

/// One management route. `{id}` in the path stands for one segment, percent-decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// The scope a machine client's token needs.
    pub scope: &'static str,
    /// The scope with which a user's own token may call the route for their own id.
    pub self_scope: Option<&'static str>,
    pub op: Op,
}

pub(crate) const fn route(
    method: &'static str,
    path: &'static str,
    scope: &'static str,
    op: Op,
) -> Route {
    Route {
        method,
        path,
        scope,
        self_scope: None,
        op,
    }
}

/// One authorized call: what every route handler takes.
pub struct Call<'c, 'a, P, C> {
    pub issuer: &'c Issuer<'a, P, C>,
    pub req: &'c Request<'c>,
    pub caller: Caller,
    /// The path's `{id}`s, decoded, in order.
    pub params: Vec<String>,
}

impl<P, C> Call<'_, '_, P, C> {
    /// The first path parameter.
    pub fn id(&self) -> &str {
        self.params.first().map_or("", String::as_str)
    }

    /// The third path parameter.
    pub fn third_id(&self) -> &str {
        self.params.get(2).map_or("", String::as_str)
    }

    /// The second path parameter.
    pub fn second_id(&self) -> &str {
        self.params.get(1).map_or("", String::as_str)
    }

    /// A new id: `prefix` and 16 random bytes in hex (Auth0's `rol_…`, `org_…` shapes).
    pub fn new_id(&self, prefix: &str) -> Result<String, Reply> {
        let hex = self.issuer.random.hex(16);
        hex.map(|h| format!("{prefix}{h}"))
            .map_err(|e| super::error::from_oauth(&e.into()))
    }
}
