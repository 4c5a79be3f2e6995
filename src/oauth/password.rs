//! Password hashes. The native format is self-describing, PHC-style:
//! `$pbkdf2-sha256$i=<iterations>$<salt>$<hash>` (standard base64 without padding), so the
//! cost can be raised later and old hashes upgraded at the next successful login. bcrypt
//! hashes (`$2a$`, `$2b$`, `$2y$`, as identity-vendor exports carry them) verify too and are
//! always upgraded.

use crate::error::OAuthError;
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::settled::Settle;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use subtle::ConstantTimeEq;

pub use crate::model::config::DEFAULT_ITERATIONS;

const PREFIX: &str = "$pbkdf2-sha256$i=";

/// The highest bcrypt cost imported or verified: 2^12 rounds. Auth0's exports use 10; 12 is
/// the common ceiling of frameworks' defaults, a fraction of a second of CPU per login,
/// inside the Paid plan's budget. Each step up doubles the work, so without a cap one login
/// for an imported `$2b$31$` hash would burn 2^31 rounds.
pub const MAX_BCRYPT_COST: u32 = 12;

/// The cost of a bcrypt hash (`$2b$10$…`), if it is one.
fn bcrypt_cost(stored: &str) -> Option<u32> {
    let well_formed = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| stored.starts_with(p))
        && stored.len() == 60
        && stored.is_ascii()
        && stored.get(6..7) == Some("$");
    well_formed.then(|| stored[4..6].parse().ok()).flatten()
}

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    /// Right, and the stored hash is current.
    Right,
    /// Right, but the stored hash should be replaced (older format or lower cost).
    RightRehash,
}

/// Hashes `password` in the native format with a fresh 16-byte salt.
pub async fn hash<C: Crypto>(
    crypto: &C,
    rng: &dyn Random,
    password: &str,
    iterations: u32,
) -> Result<String, OAuthError> {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt)?;
    let dk = crypto
        .pbkdf2_sha256(password.as_bytes(), &salt, iterations)
        .settle()
        .await?;
    Ok(format!(
        "{PREFIX}{iterations}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(dk)
    ))
}

/// Checks `password` against a stored hash of either format. A malformed stored hash is
/// `Wrong`, never a panic.
pub async fn verify<C: Crypto>(
    crypto: &C,
    password: &str,
    stored: &str,
    current_iterations: u32,
) -> Result<Verdict, OAuthError> {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        // Never above the cap, whatever got stored: the cost is the attacker's lever.
        if bcrypt_cost(stored).is_none_or(|cost| cost > MAX_BCRYPT_COST) {
            return Ok(Verdict::Wrong);
        }
        // bcrypt truncates at 72 bytes; the crate reports longer input as an error: wrong.
        let ok = bcrypt::verify(password, stored).unwrap_or(false);
        return Ok(if ok {
            Verdict::RightRehash
        } else {
            Verdict::Wrong
        });
    }
    let Some((iterations, salt, expected)) = parse_pbkdf2(stored) else {
        return Ok(Verdict::Wrong);
    };
    let dk = crypto
        .pbkdf2_sha256(password.as_bytes(), &salt, iterations)
        .settle()
        .await?;
    if !bool::from(dk.as_slice().ct_eq(&expected)) {
        return Ok(Verdict::Wrong);
    }
    Ok(if iterations < current_iterations {
        Verdict::RightRehash
    } else {
        Verdict::Right
    })
}

/// Spends the same work as verifying a real hash, so an unknown user costs what a known one
/// does (no user enumeration by timing).
pub async fn verify_dummy<C: Crypto>(
    crypto: &C,
    password: &str,
    iterations: u32,
) -> Result<(), OAuthError> {
    crypto
        .pbkdf2_sha256(password.as_bytes(), b"edge-issuer-dummy-salt", iterations)
        .settle()
        .await?;
    Ok(())
}

/// The stored form of a password hash brought from another system (Auth0's
/// `custom_password_hash`): `bcrypt` (`$2a$`, `$2b$`, `$2y$`, kept as is, upgraded at the
/// first login) or `pbkdf2` with SHA-256 in PHC form (`$pbkdf2-sha256$i=<n>[,l=32]$<salt>$<hash>`,
/// standard base64 without padding), stored in the native form. The reason when refused.
pub fn imported_hash(algorithm: &str, value: &str) -> Result<String, String> {
    match algorithm {
        "bcrypt" => match bcrypt_cost(value) {
            Some(cost) if (4..=MAX_BCRYPT_COST).contains(&cost) => Ok(value.to_string()),
            Some(cost) => Err(format!(
                "bcrypt cost {cost} is above {MAX_BCRYPT_COST}, the most a login here affords; \
                 import it with a lower cost or as a password reset"
            )),
            None => Err("not a bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters)".into()),
        },
        "pbkdf2" => {
            let rest = value
                .strip_prefix("$pbkdf2-sha256$")
                .ok_or("only PBKDF2 with SHA-256 is supported ($pbkdf2-sha256$…)")?;
            let (params, hashes) = rest.split_once('$').ok_or("missing salt and hash")?;
            let mut iterations = None;
            for param in params.split(',') {
                match param.split_once('=') {
                    Some(("i", n)) => iterations = n.parse::<u32>().ok(),
                    Some(("l", "32")) => {}
                    _ => {
                        return Err(format!(
                            "unsupported PBKDF2 parameter {param} (l must be 32)"
                        ))
                    }
                }
            }
            let iterations = iterations.ok_or("missing i=<iterations>")?;
            if !(1..=DEFAULT_ITERATIONS).contains(&iterations) {
                return Err(format!("PBKDF2 iterations must be 1 to {DEFAULT_ITERATIONS}, the most the Worker's WebCrypto computes"));
            }
            let native = format!("{PREFIX}{iterations}${hashes}");
            parse_pbkdf2(&native)
                .ok_or("salt and hash must be base64 without padding, the hash 32 bytes")?;
            Ok(native)
        }
        other => Err(format!("unsupported algorithm {other} (bcrypt or pbkdf2)")),
    }
}

fn parse_pbkdf2(stored: &str) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    let rest = stored.strip_prefix(PREFIX)?;
    let mut parts = rest.split('$');
    let iterations: u32 = parts.next()?.parse().ok()?;
    let salt = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
    let hash = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
    if parts.next().is_some() || iterations == 0 || hash.len() != 32 || salt.is_empty() {
        return None;
    }
    Some((iterations, salt, hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::native_crypto::NativeCrypto;
    use crate::port::random::OsRandom;
    use pollster::block_on;

    const FAST: u32 = 1_000;

    #[test]
    fn hash_round_trips_and_rejects_other_passwords() {
        let h = block_on(hash(&NativeCrypto, &OsRandom, "correct horse", FAST)).unwrap();
        assert!(h.starts_with("$pbkdf2-sha256$i=1000$"));
        let v = |p| block_on(verify(&NativeCrypto, p, &h, FAST)).unwrap();
        assert_eq!(v("correct horse"), Verdict::Right);
        assert_eq!(v("correct horsE"), Verdict::Wrong);
        assert_eq!(v(""), Verdict::Wrong);
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        let a = block_on(hash(&NativeCrypto, &OsRandom, "pw", FAST)).unwrap();
        let b = block_on(hash(&NativeCrypto, &OsRandom, "pw", FAST)).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn lower_cost_hash_asks_for_an_upgrade() {
        let old = block_on(hash(&NativeCrypto, &OsRandom, "pw", FAST)).unwrap();
        let v = block_on(verify(&NativeCrypto, "pw", &old, FAST * 2)).unwrap();
        assert_eq!(v, Verdict::RightRehash);
    }

    #[test]
    fn known_pbkdf2_vector_verifies() {
        // RFC 7914 §11 PBKDF2-HMAC-SHA256 test vector: P="passwd", S="salt", c=1, dkLen=32.
        let dk = hex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
        let stored = format!(
            "{PREFIX}1${}${}",
            STANDARD_NO_PAD.encode("salt"),
            STANDARD_NO_PAD.encode(dk)
        );
        assert_eq!(
            block_on(verify(&NativeCrypto, "passwd", &stored, 1)).unwrap(),
            Verdict::Right
        );
    }

    #[test]
    fn bcrypt_hashes_verify_and_ask_for_an_upgrade() {
        // Made with cost 4 so the test is fast; $2b$ and $2a$ prefixes both verify.
        let b = bcrypt::hash("hunter2", 4).unwrap();
        let a = b.replacen("$2b$", "$2a$", 1);
        for stored in [&b, &a] {
            let v = |p| block_on(verify(&NativeCrypto, p, stored, FAST)).unwrap();
            assert_eq!(v("hunter2"), Verdict::RightRehash);
            assert_eq!(v("hunter3"), Verdict::Wrong);
        }
    }

    #[test]
    fn a_stored_bcrypt_hash_above_the_cost_cap_is_never_verified() {
        // A real cost-4 hash with its cost raised: verifying it would take 2^31 rounds (this
        // test would not end); it is refused at once, the right password included.
        let b = bcrypt::hash("hunter2", 4).unwrap();
        for cost in ["13", "31"] {
            let stored = format!("{}{cost}{}", &b[..4], &b[6..]);
            let v = block_on(verify(&NativeCrypto, "hunter2", &stored, FAST)).unwrap();
            assert_eq!(v, Verdict::Wrong, "cost {cost}");
        }
        let at_cap = format!("{}{MAX_BCRYPT_COST}{}", &b[..4], &b[6..]);
        assert_eq!(bcrypt_cost(&at_cap), Some(MAX_BCRYPT_COST));
    }

    #[test]
    fn malformed_stored_hashes_are_wrong_not_errors() {
        for stored in [
            "",
            "plain",
            "$pbkdf2-sha256$i=x$a$b",
            "$pbkdf2-sha256$i=1$$",
            "$2b$zz",
        ] {
            let v = block_on(verify(&NativeCrypto, "pw", stored, FAST)).unwrap();
            assert_eq!(v, Verdict::Wrong, "{stored}");
        }
    }

    #[test]
    fn imported_hashes_are_stored_in_a_form_that_verifies() {
        let b = bcrypt::hash("hunter2", 4).unwrap();
        let stored = imported_hash("bcrypt", &b).unwrap();
        let v = block_on(verify(&NativeCrypto, "hunter2", &stored, FAST)).unwrap();
        assert_eq!(v, Verdict::RightRehash);
        // RFC 7914's vector again, in Auth0's PHC form with the length parameter.
        let dk = hex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
        let phc = format!(
            "$pbkdf2-sha256$i=1,l=32${}${}",
            STANDARD_NO_PAD.encode("salt"),
            STANDARD_NO_PAD.encode(dk)
        );
        let stored = imported_hash("pbkdf2", &phc).unwrap();
        let v = block_on(verify(&NativeCrypto, "passwd", &stored, 1)).unwrap();
        assert_eq!(v, Verdict::Right);
        for (alg, bad) in [
            ("bcrypt", "$2b$10$short"),
            // A cost above the cap (the hash is well formed otherwise).
            (
                "bcrypt",
                "$2b$13$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
            ),
            (
                "bcrypt",
                "$2b$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
            ),
            ("bcrypt", "$pbkdf2-sha256$i=1$a$b"),
            ("pbkdf2", "$pbkdf2-sha512$i=1$c2FsdA$aGFzaA"),
            ("pbkdf2", "$pbkdf2-sha256$i=1,l=64$c2FsdA$aGFzaA"),
            ("pbkdf2", "$pbkdf2-sha256$i=1$c2FsdA$aGFzaA"),
            ("pbkdf2", "$pbkdf2-sha256$i=999999999$c2FsdA$aGFzaA"),
            ("md5", "x"),
        ] {
            assert!(imported_hash(alg, bad).is_err(), "{alg} {bad}");
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
