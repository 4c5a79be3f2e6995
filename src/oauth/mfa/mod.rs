//! Second factors: TOTP authenticator apps ([`totp`]) and recovery codes ([`recovery`]).

pub mod recovery;
pub mod totp;
