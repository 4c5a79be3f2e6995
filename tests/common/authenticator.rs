//! A software WebAuthn authenticator for native tests: a P-256 key per credential, making the
//! `clientDataJSON`, attestation object (format `none`), authenticator data and DER signature
//! a browser and its authenticator would.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use sha2::{Digest, Sha256};

pub const UP: u8 = 0x01;
pub const UV: u8 = 0x04;
pub const AT: u8 = 0x40;

pub struct SoftAuthenticator {
    key: SigningKey,
    pub id: Vec<u8>,
    pub rp_id: String,
    pub count: u32,
}

/// A ceremony's response, decoded.
pub struct Made {
    pub client_data_json: Vec<u8>,
    /// The attestation object (registration) or the authenticator data (authentication).
    pub data: Vec<u8>,
    pub signature: Vec<u8>,
}

impl SoftAuthenticator {
    pub fn new(rp_id: &str, seed: u8) -> Self {
        let key = SigningKey::from_bytes(&[seed.max(1); 32].into()).unwrap();
        Self {
            key,
            id: vec![seed; 16],
            rp_id: rp_id.to_string(),
            // Counting from its registration, as Chromium's virtual authenticator does: the
            // registration reports 1, and the count a key is stored with is then asserted.
            count: 1,
        }
    }

    pub fn id_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.id)
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        serde_json::json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    fn head(&self, rp_id: &str, flags: u8) -> Vec<u8> {
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.count.to_be_bytes());
        data
    }

    /// `navigator.credentials.create()` for `rp_id` on `origin`.
    pub fn create(&self, challenge: &str, origin: &str, rp_id: &str, flags: u8) -> Made {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut cose = minicbor::Encoder::new(Vec::new());
        cose.map(5).unwrap();
        cose.i64(1).unwrap().i64(2).unwrap();
        cose.i64(3).unwrap().i64(-7).unwrap();
        cose.i64(-1).unwrap().i64(1).unwrap();
        cose.i64(-2).unwrap().bytes(point.x().unwrap()).unwrap();
        cose.i64(-3).unwrap().bytes(point.y().unwrap()).unwrap();
        let mut auth_data = self.head(rp_id, flags | AT);
        auth_data.extend([0u8; 16]);
        auth_data.extend((self.id.len() as u16).to_be_bytes());
        auth_data.extend(&self.id);
        auth_data.extend(cose.into_writer());
        let mut object = minicbor::Encoder::new(Vec::new());
        object.map(3).unwrap();
        object.str("fmt").unwrap().str("none").unwrap();
        object.str("attStmt").unwrap().map(0).unwrap();
        object.str("authData").unwrap().bytes(&auth_data).unwrap();
        Made {
            client_data_json: Self::client_data("webauthn.create", challenge, origin),
            data: object.into_writer(),
            signature: Vec::new(),
        }
    }

    /// `navigator.credentials.get()` for `rp_id` on `origin`; the counter goes up by one.
    pub fn get(&mut self, challenge: &str, origin: &str, rp_id: &str, flags: u8) -> Made {
        self.count += 1;
        let client_data_json = Self::client_data("webauthn.get", challenge, origin);
        let data = self.head(rp_id, flags);
        let mut signed = data.clone();
        signed.extend(Sha256::digest(&client_data_json));
        let signature: DerSignature = self.key.sign(&signed);
        Made {
            client_data_json,
            data,
            signature: signature.as_bytes().to_vec(),
        }
    }
}
