//! WebAuthn ceremonies as the relying party checks them (W3C WebAuthn Level 3 §7.1, §7.2):
//! a software authenticator's responses accepted, and each way a response can be wrong
//! refused for its reason.

mod common;

use common::authenticator::{SoftAuthenticator, UP, UV};
use edge_issuer::model::webauthn::{self, Expected, Refusal, ES256};
use edge_issuer::port::crypto::{Alg, Crypto};
use edge_issuer::port::native_crypto::NativeCrypto;

const ORIGIN: &str = "https://id.example.com";
const RP_ID: &str = "id.example.com";

fn expected(challenge: &str) -> Expected<'_> {
    Expected {
        challenge,
        origin: ORIGIN,
        rp_id: RP_ID,
        user_verification: true,
    }
}

fn registered(auth: &SoftAuthenticator) -> webauthn::NewCredential {
    let challenge = webauthn::challenge_for("csrf-1");
    let made = auth.create(&challenge, ORIGIN, RP_ID, UP | UV);
    webauthn::register(&made.client_data_json, &made.data, &expected(&challenge)).unwrap()
}

fn verifies(cred: &webauthn::NewCredential, a: &webauthn::Assertion) -> bool {
    pollster::block_on(NativeCrypto.verify(
        Alg::ES256,
        &cred.id,
        &cred.public_jwk,
        &a.signed,
        &a.signature,
    ))
    .unwrap()
}

#[test]
fn a_registration_gives_the_credential_id_and_its_public_key() {
    let auth = SoftAuthenticator::new(RP_ID, 7);
    let cred = registered(&auth);
    assert_eq!(cred.id, auth.id_b64());
    assert_eq!(cred.alg, ES256);
    assert!(cred.verified);
    let jwk: serde_json::Value = serde_json::from_str(&cred.public_jwk).unwrap();
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
}

#[test]
fn a_registration_is_refused_for_the_wrong_origin_rp_id_challenge_ceremony_or_flags() {
    let auth = SoftAuthenticator::new(RP_ID, 7);
    let challenge = webauthn::challenge_for("csrf-1");
    let check = |made: common::authenticator::Made| {
        webauthn::register(&made.client_data_json, &made.data, &expected(&challenge))
    };
    let phished = auth.create(
        &challenge,
        "https://id.example.com.evil.test",
        RP_ID,
        UP | UV,
    );
    assert_eq!(check(phished), Err(Refusal::Origin));
    let other_rp = auth.create(&challenge, ORIGIN, "example.com", UP | UV);
    assert_eq!(check(other_rp), Err(Refusal::RpId));
    let stale = auth.create(&webauthn::challenge_for("csrf-0"), ORIGIN, RP_ID, UP | UV);
    assert_eq!(check(stale), Err(Refusal::Challenge));
    let absent = auth.create(&challenge, ORIGIN, RP_ID, UV);
    assert_eq!(check(absent), Err(Refusal::Flags));
    let unverified = auth.create(&challenge, ORIGIN, RP_ID, UP);
    assert_eq!(check(unverified), Err(Refusal::Flags));
    let mut assertion_not_creation = auth.create(&challenge, ORIGIN, RP_ID, UP | UV);
    assertion_not_creation.client_data_json =
        String::from_utf8(assertion_not_creation.client_data_json)
            .unwrap()
            .replace("webauthn.create", "webauthn.get")
            .into_bytes();
    assert_eq!(check(assertion_not_creation), Err(Refusal::Ceremony));
    let mut cut = auth.create(&challenge, ORIGIN, RP_ID, UP | UV);
    cut.data.truncate(cut.data.len() - 10);
    assert_eq!(check(cut), Err(Refusal::Malformed));
    assert_eq!(
        webauthn::register(b"{}", b"\xa0", &expected(&challenge)),
        Err(Refusal::Malformed)
    );
}

#[test]
fn an_assertion_verifies_and_each_wrong_one_is_refused() {
    let mut auth = SoftAuthenticator::new(RP_ID, 9);
    let cred = registered(&auth);
    let challenge = webauthn::challenge_for("csrf-2");
    let e = expected(&challenge);
    let check = |made: &common::authenticator::Made, stored: u32| {
        webauthn::assert(
            &made.client_data_json,
            &made.data,
            &made.signature,
            ES256,
            stored,
            &e,
        )
    };

    let good = auth.get(&challenge, ORIGIN, RP_ID, UP | UV);
    let assertion = check(&good, 1).unwrap();
    assert_eq!(assertion.sign_count, 2);
    assert!(verifies(&cred, &assertion));

    let phished = auth.get(&challenge, "https://evil.test", RP_ID, UP | UV);
    assert_eq!(check(&phished, 0), Err(Refusal::Origin));
    let other_rp = auth.get(&challenge, ORIGIN, "evil.test", UP | UV);
    assert_eq!(check(&other_rp, 0), Err(Refusal::RpId));
    let old = auth.get(&webauthn::challenge_for("csrf-1"), ORIGIN, RP_ID, UP | UV);
    assert_eq!(check(&old, 0), Err(Refusal::Challenge));
    let absent = auth.get(&challenge, ORIGIN, RP_ID, UV);
    assert_eq!(check(&absent, 0), Err(Refusal::Flags));
    let unverified = auth.get(&challenge, ORIGIN, RP_ID, UP);
    assert_eq!(check(&unverified, 0), Err(Refusal::Flags));
    let relaxed = Expected {
        user_verification: false,
        ..e
    };
    let presence_only = webauthn::assert(
        &unverified.client_data_json,
        &unverified.data,
        &unverified.signature,
        ES256,
        0,
        &relaxed,
    );
    assert!(presence_only.is_ok_and(|a| !a.verified));

    // A counter that does not grow past the stored one: a clone.
    let next = auth.get(&challenge, ORIGIN, RP_ID, UP | UV);
    assert_eq!(check(&next, auth.count), Err(Refusal::Counter));
    assert_eq!(check(&next, auth.count + 5), Err(Refusal::Counter));
    assert!(check(&next, auth.count - 1).is_ok());

    // A signature over other bytes does not verify; one cut short is refused outright.
    let mut tampered = auth.get(&challenge, ORIGIN, RP_ID, UP | UV);
    tampered.data[32] |= 0x08; // "backup eligible", added after signing
    let a = check(&tampered, 0).unwrap();
    assert!(!verifies(&cred, &a));
    let mut cut = auth.get(&challenge, ORIGIN, RP_ID, UP | UV);
    cut.signature.truncate(20);
    assert_eq!(check(&cut, 0), Err(Refusal::Signature));
    // Another key's signature does not verify against this credential.
    let mut other = SoftAuthenticator::new(RP_ID, 10);
    let foreign = other.get(&challenge, ORIGIN, RP_ID, UP | UV);
    assert!(!verifies(&cred, &check(&foreign, 0).unwrap()));
}

/// A registration and an assertion recorded from Chromium's virtual authenticator.
fn recorded() -> serde_json::Value {
    let text = include_str!("fixtures/webauthn-chromium.json");
    serde_json::from_str(text).unwrap()
}

fn field(v: &serde_json::Value, name: &str) -> Vec<u8> {
    webauthn::b64(v[name].as_str().unwrap()).unwrap()
}

#[test]
fn a_recorded_chromium_registration_and_assertion_verify_and_each_wrong_expectation_refuses() {
    let f = recorded();
    let (origin, rp_id) = (f["origin"].as_str().unwrap(), f["rp_id"].as_str().unwrap());
    let reg = &f["registration"];
    let expect = |challenge, origin, rp_id| Expected {
        challenge,
        origin,
        rp_id,
        user_verification: true,
    };
    let challenge = reg["challenge"].as_str().unwrap();
    let (client_data, object) = (
        field(reg, "clientDataJSON"),
        field(reg, "attestationObject"),
    );
    let cred =
        webauthn::register(&client_data, &object, &expect(challenge, origin, rp_id)).unwrap();
    assert_eq!(cred.id, reg["id"].as_str().unwrap());
    assert_eq!(cred.alg, ES256);
    assert!(cred.verified);
    let wrong = |c, o, r| webauthn::register(&client_data, &object, &expect(c, o, r));
    assert_eq!(
        wrong(challenge, "http://localhost:1", rp_id),
        Err(Refusal::Origin)
    );
    assert_eq!(wrong(challenge, origin, "example.com"), Err(Refusal::RpId));
    assert_eq!(wrong("AAAA", origin, rp_id), Err(Refusal::Challenge));

    let a = &f["assertion"];
    let challenge = a["challenge"].as_str().unwrap();
    let (client_data, auth_data) = (field(a, "clientDataJSON"), field(a, "authenticatorData"));
    let signature = field(a, "signature");
    let check = |sig: &[u8], stored: u32, e: Expected| {
        webauthn::assert(&client_data, &auth_data, sig, ES256, stored, &e)
    };
    let good = check(&signature, 2, expect(challenge, origin, rp_id)).unwrap();
    assert_eq!(good.sign_count, 3);
    assert!(verifies(&cred, &good));
    assert_eq!(
        String::from_utf8(field(a, "userHandle")).unwrap(),
        "auth0|6565a1b2c3d4e5f600000001"
    );
    assert_eq!(
        check(&signature, 3, expect(challenge, origin, rp_id)),
        Err(Refusal::Counter)
    );
    let e = expect(challenge, "https://localhost", rp_id);
    assert_eq!(check(&signature, 0, e), Err(Refusal::Origin));
    assert_eq!(
        check(&signature, 0, expect(challenge, origin, "127.0.0.1")),
        Err(Refusal::RpId)
    );
    let other = webauthn::challenge_for("another page");
    assert_eq!(
        check(&signature, 0, expect(&other, origin, rp_id)),
        Err(Refusal::Challenge)
    );
    // One bit of the signature changed: it no longer verifies.
    let mut tampered = signature.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let a = check(&tampered, 0, expect(challenge, origin, rp_id)).unwrap();
    assert!(!verifies(&cred, &a));
}
