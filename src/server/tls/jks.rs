//! Java KeyStore files (`JKS`, the default type of Java's `keytool` before 9 and of
//! many Kafka and ZooKeeper deployments), as `sun.security.provider.JavaKeyStore` and
//! its `KeyProtector` write them, so operators keep their stores unchanged.
//!
//! Layout: magic `FEEDFEED`, version 1 or 2, the entry count, then per entry a tag
//! (1: private key with its certificate chain, 2: trusted certificate), the alias
//! (modified UTF-8) and a date; a version-2 store names each certificate's type.
//! A SHA-1 over the password (UTF-16BE), the words "Mighty Aphrodite" and everything
//! before it closes the file. A private key is an `EncryptedPrivateKeyInfo` whose
//! octets are salt(20) ‖ key XOR keystream ‖ SHA-1(password ‖ key), the keystream being
//! SHA-1(password ‖ previous block) from the salt on.
//!
//! The key must still be one rustls can sign with: Java writes an EC private key
//! without its public half, which the `ring` provider refuses, so such stores fail at
//! start-up with the reason; RSA keys (keytool's usual choice) work.

use sha1::{Digest, Sha1};

/// What a JKS file holds that a TLS server needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct JksContents {
    /// PKCS#8 private keys with their certificate chains (leaf first), in file order.
    pub keys: Vec<(Vec<u8>, Vec<Vec<u8>>)>,
    /// `trustedCertEntry` certificates.
    pub trusted: Vec<Vec<u8>>,
}

const MAGIC: u32 = 0xFEED_FEED;
const SALT: usize = 20;

/// Reads and checks a JKS file; keys are recovered with the same password.
pub fn read(data: &[u8], password: &str) -> Result<JksContents, String> {
    let pw: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let body_len = data
        .len()
        .checked_sub(20)
        .ok_or("not a JKS store: too short")?;
    let (body, mac) = data.split_at(body_len);
    let mut r = Cursor { data: body, at: 0 };
    if r.u32()? != MAGIC {
        return Err("not a JKS store (no FEEDFEED magic)".into());
    }
    let version = r.u32()?;
    if version != 1 && version != 2 {
        return Err(format!("unsupported JKS version {version}"));
    }
    let expected = Sha1::new()
        .chain_update(&pw)
        .chain_update(b"Mighty Aphrodite")
        .chain_update(body)
        .finalize();
    if expected.as_slice() != mac {
        return Err("the store's integrity check failed (wrong ssl password?)".into());
    }
    let mut out = JksContents::default();
    for _ in 0..r.u32()? {
        let tag = r.u32()?;
        r.utf()?;
        r.bytes(8)?;
        match tag {
            1 => {
                let protected = r.block()?;
                let key = recover_key(protected, &pw)?;
                let mut chain = Vec::new();
                for _ in 0..r.u32()? {
                    chain.push(r.cert(version)?);
                }
                out.keys.push((key, chain));
            }
            2 => out.trusted.push(r.cert(version)?),
            t => {
                return Err(format!(
                    "unsupported JKS entry kind {t} (JCEKS secret keys are not TLS material)"
                ))
            }
        }
    }
    Ok(out)
}

/// `KeyProtector.recover`: the PKCS#8 key inside an `EncryptedPrivateKeyInfo`.
fn recover_key(epki: &[u8], pw: &[u8]) -> Result<Vec<u8>, String> {
    let sealed = octets_of_encrypted_key_info(epki).ok_or("malformed protected private key")?;
    let body_len = sealed
        .len()
        .checked_sub(2 * SALT)
        .ok_or("protected private key too short")?;
    let (salt, rest) = sealed.split_at(SALT);
    let (encrypted, check) = rest.split_at(body_len);
    let mut block = salt.to_vec();
    let mut key = Vec::with_capacity(encrypted.len());
    for chunk in encrypted.chunks(SALT) {
        block = Sha1::new()
            .chain_update(pw)
            .chain_update(&block)
            .finalize()
            .to_vec();
        key.extend(chunk.iter().zip(&block).map(|(c, k)| c ^ k));
    }
    let digest = Sha1::new().chain_update(pw).chain_update(&key).finalize();
    if digest.as_slice() != check {
        return Err(
            "cannot recover the private key (its password differs from the store's?)".into(),
        );
    }
    Ok(key)
}

/// SEQUENCE { AlgorithmIdentifier, OCTET STRING }: the octets.
fn octets_of_encrypted_key_info(der: &[u8]) -> Option<&[u8]> {
    let (inner, _) = der_value(der, 0x30)?;
    let (_, after_alg) = der_value(inner, 0x30)?;
    der_value(after_alg, 0x04).map(|(v, _)| v)
}

/// The value of a DER element with `tag` at the start of `d`, and what follows it.
fn der_value(d: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *d.first()? != tag {
        return None;
    }
    let first = *d.get(1)?;
    let (len, start) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len = d
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = start.checked_add(len)?;
    Some((d.get(start..end)?, d.get(end..)?))
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let out = self
            .at
            .checked_add(n)
            .and_then(|end| self.data.get(self.at..end))
            .ok_or("truncated JKS store")?;
        self.at += n;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b: [u8; 4] = self
            .bytes(4)?
            .try_into()
            .map_err(|_| "truncated JKS store")?;
        Ok(u32::from_be_bytes(b))
    }

    fn utf(&mut self) -> Result<&'a [u8], String> {
        let b: [u8; 2] = self
            .bytes(2)?
            .try_into()
            .map_err(|_| "truncated JKS store")?;
        let n = usize::from(u16::from_be_bytes(b));
        self.bytes(n)
    }

    fn block(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }

    fn cert(&mut self, version: u32) -> Result<Vec<u8>, String> {
        if version == 2 {
            let kind = self.utf()?;
            if kind != b"X.509" {
                return Err(format!(
                    "unsupported certificate type {:?}",
                    String::from_utf8_lossy(kind)
                ));
            }
        }
        Ok(self.block()?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made with `keytool -genkeypair -keyalg RSA -alias server -storetype JKS
    /// -storepass changeit -keypass changeit` and `-importcert` of a CA as `ca`.
    const STORE: &[u8] = include_bytes!("testdata/server.jks");

    #[test]
    fn a_keytool_store_gives_its_key_chain_and_trusted_certificate() {
        let c = read(STORE, "changeit").expect("reads");
        assert_eq!(c.keys.len(), 1);
        let (key, chain) = &c.keys[0];
        assert_eq!(key.first(), Some(&0x30), "a PKCS#8 DER sequence");
        assert_eq!(chain.len(), 1);
        assert_eq!(c.trusted.len(), 1);
        assert!(rustls::crypto::ring::sign::any_supported_type(
            &rustls::pki_types::PrivateKeyDer::Pkcs8(key.clone().into())
        )
        .is_ok());
    }

    #[test]
    fn a_wrong_password_or_a_damaged_store_is_an_error_not_a_panic() {
        assert!(read(STORE, "wrong").unwrap_err().contains("integrity"));
        for cut in [0, 3, 10, STORE.len() / 2, STORE.len() - 1] {
            assert!(read(&STORE[..cut], "changeit").is_err(), "cut at {cut}");
        }
        let mut bad = STORE.to_vec();
        bad[40] ^= 1;
        assert!(read(&bad, "changeit").is_err());
    }
}
