//! The facts of one request that the flows may read.

use crate::model::config::Config;

/// The configuration, the time, and where the request came from. It holds no port: each
/// flow receives the ports it uses on their own.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub config: &'a Config,
    /// Unix seconds, read once per request.
    pub now: u64,
    /// The client's IP address as the platform reports it, for brute-force counting.
    pub client_ip: Option<&'a str>,
    /// The client's country as the platform reports it, for rules and hooks.
    pub country: Option<&'a str>,
    /// The `Host` the request came to.
    pub host: Option<&'a str>,
}
