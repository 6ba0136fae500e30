//! Personal-data protection: AES-256-GCM encryption at rest, HMAC-SHA256
//! keyed hashes for lookup without decryption, and HMAC signatures for tokens
//! (member-card QR codes). All keys derive from one master key, kept outside
//! the database so a stolen database file alone reveals nothing.

use std::path::Path;

use aes_gcm::{
    aead::{Aead, KeyInit},
    Aes256Gcm, Nonce,
};
use anyhow::Context;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub struct Keys {
    cipher: Aes256Gcm,
    lookup: HmacSha256,
    signing: HmacSha256,
    /// Keys the audit chain (`audit`): without the master key, rewriting
    /// entries and recomputing the chain cannot produce valid hashes.
    audit: HmacSha256,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

fn derive(master: &[u8], label: &str) -> [u8; 32] {
    let mut m = <HmacSha256 as Mac>::new_from_slice(master).expect("any key length");
    m.update(label.as_bytes());
    m.finalize().into_bytes().into()
}

impl Keys {
    pub fn from_master(master: &[u8]) -> Keys {
        let enc = derive(master, "gonghui/v1/encrypt");
        Keys {
            cipher: Aes256Gcm::new_from_slice(&enc).expect("32-byte key"),
            lookup: <HmacSha256 as Mac>::new_from_slice(&derive(master, "gonghui/v1/lookup"))
                .expect("key"),
            signing: <HmacSha256 as Mac>::new_from_slice(&derive(master, "gonghui/v1/sign"))
                .expect("key"),
            audit: <HmacSha256 as Mac>::new_from_slice(&derive(master, "gonghui/v1/audit"))
                .expect("key"),
        }
    }

    /// The configured hex key, or the key file in the data dir (created with
    /// 0600 permissions on first use).
    pub fn load(data_dir: &Path, configured: Option<&str>) -> anyhow::Result<Keys> {
        if let Some(hexkey) = configured {
            let bytes = hex::decode(hexkey.trim())
                .context("GONGHUI_MASTER_KEY 必须是十六进制 / must be hex")?;
            anyhow::ensure!(
                bytes.len() >= 32,
                "主密钥至少32字节 / master key must be at least 32 bytes"
            );
            return Ok(Keys::from_master(&bytes));
        }
        let path = data_dir.join("master.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)?;
            let bytes = hex::decode(text.trim()).context("master.key 已损坏 / is corrupt")?;
            return Ok(Keys::from_master(&bytes));
        }
        std::fs::create_dir_all(data_dir)?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        std::fs::write(&path, hex::encode(key))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(Keys::from_master(&key))
    }

    /// "v1." + base64(nonce ‖ ciphertext ‖ tag).
    pub fn encrypt(&self, plain: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("AES-GCM encryption cannot fail for in-memory data");
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        format!("v1.{}", B64.encode(out))
    }

    pub fn decrypt(&self, sealed: &str) -> anyhow::Result<String> {
        let body = sealed
            .strip_prefix("v1.")
            .context("unknown ciphertext version")?;
        let raw = B64.decode(body)?;
        anyhow::ensure!(raw.len() > 12, "ciphertext too short");
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(&raw[..12]), &raw[12..])
            .map_err(|_| anyhow::anyhow!("解密失败:密钥不匹配或数据被篡改 / decryption failed"))?;
        Ok(String::from_utf8(plain)?)
    }

    /// Keyed hash for equality lookup; `domain` separates kinds of value so an
    /// ID hash never equals a phone hash.
    pub fn lookup_hash(&self, domain: &str, value: &str) -> String {
        let mut m = self.lookup.clone();
        m.update(domain.as_bytes());
        m.update(&[0]);
        m.update(value.as_bytes());
        hex::encode(&m.finalize().into_bytes()[..20])
    }

    /// The keyed MAC of the audit chain, ready to be fed an entry.
    pub fn audit_mac(&self) -> Hmac<Sha256> {
        self.audit.clone()
    }

    pub fn sign(&self, payload: &[u8]) -> String {
        let mut m = self.signing.clone();
        m.update(payload);
        B64.encode(&m.finalize().into_bytes()[..16])
    }

    pub fn verify(&self, payload: &[u8], sig: &str) -> bool {
        let Ok(tag) = B64.decode(sig) else {
            return false;
        };
        let mut m = self.signing.clone();
        m.update(payload);
        m.verify_truncated_left(&tag).is_ok() && tag.len() == 16
    }
}

/// A random token for sessions and CSRF (URL-safe).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    B64.encode(b)
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_roundtrip_and_tamper_detection() {
        let k = Keys::from_master(&[7u8; 32]);
        let c = k.encrypt("11010519491231002X");
        assert!(!c.contains("1101"));
        assert_eq!(k.decrypt(&c).unwrap(), "11010519491231002X");
        assert_ne!(c, k.encrypt("11010519491231002X"), "fresh nonce each time");
        let mut bad = c.clone();
        bad.pop();
        bad.push(if c.ends_with('A') { 'B' } else { 'A' });
        assert!(k.decrypt(&bad).is_err());
        assert!(
            Keys::from_master(&[8u8; 32]).decrypt(&c).is_err(),
            "other key fails"
        );
    }

    #[test]
    fn lookup_hash_is_keyed_and_domain_separated() {
        let k = Keys::from_master(&[7u8; 32]);
        assert_eq!(k.lookup_hash("id", "x"), k.lookup_hash("id", "x"));
        assert_ne!(k.lookup_hash("id", "x"), k.lookup_hash("phone", "x"));
        assert_ne!(
            k.lookup_hash("id", "x"),
            Keys::from_master(&[9u8; 32]).lookup_hash("id", "x")
        );
    }

    #[test]
    fn signatures_verify_and_reject_forgery() {
        let k = Keys::from_master(&[7u8; 32]);
        let s = k.sign(b"card:42");
        assert!(k.verify(b"card:42", &s));
        assert!(!k.verify(b"card:43", &s));
        assert!(!k.verify(b"card:42", "AAAA"));
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = Keys::load(dir.path(), None).unwrap();
        let b = Keys::load(dir.path(), None).unwrap();
        assert_eq!(a.lookup_hash("d", "v"), b.lookup_hash("d", "v"));
    }
}
