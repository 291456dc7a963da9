//! x509 client-certificate authentication (`X509AuthenticationProvider`): the ids a TLS
//! connection gets from the certificate its client presented.
//!
//! The id is the subject of the leaf certificate as Java's `X500Principal.getName()`
//! prints it (RFC 2253: the most specific RDN first, `,` between RDNs, `+` inside a
//! multi-valued RDN, the RFC 2253 keywords and dotted OIDs with a `#`-hex DER value for
//! every other attribute, the escaping of `sun.security.x509.AVA.toRFC2253String`).
//! A subject equal to `zookeeper.X509AuthenticationProvider.superUser` also gets
//! `super:<subject>`. Only DER is walked here: the chain was verified by the TLS layer.

use crate::proto::Id;

/// The system property naming the x509 super user.
pub const SUPER_USER_PROPERTY: &str = "zookeeper.X509AuthenticationProvider.superUser";

/// Why a certificate yields no id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed certificate: {0}")]
pub struct CertError(&'static str);

/// The ids of a client that presented `leaf` (DER), in the order Java adds them:
/// `super:<dn>` first when the subject is the super user, then `x509:<dn>`.
pub fn client_ids(leaf: &[u8], super_user: Option<&str>) -> Result<Vec<Id>, CertError> {
    let dn = subject_dn(leaf)?;
    let mut ids = Vec::new();
    if super_user == Some(dn.as_str()) {
        ids.push(Id::new("super", &dn));
    }
    ids.push(Id::new("x509", &dn));
    Ok(ids)
}

/// `X509Certificate.getSubjectX500Principal().getName()` of a DER certificate.
pub fn subject_dn(cert: &[u8]) -> Result<String, CertError> {
    let (cert, _) = Tlv::read(cert)?.expect(SEQUENCE, "certificate is not a SEQUENCE")?;
    let (tbs, _) = Tlv::read(cert)?.expect(SEQUENCE, "tbsCertificate is not a SEQUENCE")?;
    let mut rest = tbs;
    let mut fields = Vec::new();
    while !rest.is_empty() && fields.len() < 6 {
        let tlv = Tlv::read(rest)?;
        rest = tlv.rest;
        fields.push(tlv);
    }
    // version [0] is optional; subject follows serial, signature, issuer and validity.
    let skip = usize::from(fields.first().is_some_and(|f| f.tag == 0xa0));
    let subject = fields.get(skip + 4).ok_or(CertError("no subject"))?;
    if subject.tag != SEQUENCE {
        return Err(CertError("subject is not a SEQUENCE"));
    }
    name_rfc2253(subject.value)
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// One DER tag-length-value, with what follows it.
struct Tlv<'a> {
    tag: u8,
    /// The whole encoding (tag and length included).
    raw: &'a [u8],
    value: &'a [u8],
    rest: &'a [u8],
}

impl<'a> Tlv<'a> {
    fn read(input: &'a [u8]) -> Result<Tlv<'a>, CertError> {
        let (&tag, after_tag) = input.split_first().ok_or(CertError("truncated"))?;
        let (&first, after_len) = after_tag.split_first().ok_or(CertError("truncated"))?;
        let (len, body) = if first < 0x80 {
            (usize::from(first), after_len)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(CertError("unsupported length"));
            }
            let bytes = after_len.get(..n).ok_or(CertError("truncated"))?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, after_len.get(n..).unwrap_or_default())
        };
        let value = body.get(..len).ok_or(CertError("truncated"))?;
        let header = input.len() - body.len();
        let raw = input.get(..header + len).ok_or(CertError("truncated"))?;
        Ok(Tlv {
            tag,
            raw,
            value,
            rest: body.get(len..).unwrap_or_default(),
        })
    }

    fn expect(self, tag: u8, why: &'static str) -> Result<(&'a [u8], &'a [u8]), CertError> {
        if self.tag == tag {
            Ok((self.value, self.rest))
        } else {
            Err(CertError(why))
        }
    }
}

/// An X.501 `Name` (the content of its SEQUENCE) in RFC 2253 form, last RDN first.
fn name_rfc2253(mut seq: &[u8]) -> Result<String, CertError> {
    let mut rdns = Vec::new();
    while !seq.is_empty() {
        let (set, rest) = Tlv::read(seq)?.expect(SET, "RDN is not a SET")?;
        seq = rest;
        let mut avas = Vec::new();
        let mut inner = set;
        while !inner.is_empty() {
            let (ava, rest) = Tlv::read(inner)?.expect(SEQUENCE, "AVA is not a SEQUENCE")?;
            inner = rest;
            avas.push(ava_rfc2253(ava)?);
        }
        rdns.push(avas.join("+"));
    }
    rdns.reverse();
    Ok(rdns.join(","))
}

/// One `type=value` (`AVA.toRFC2253String`).
fn ava_rfc2253(ava: &[u8]) -> Result<String, CertError> {
    let (oid, rest) = Tlv::read(ava)?.expect(OID, "attribute type is not an OID")?;
    let value = Tlv::read(rest)?;
    let oid = dotted_oid(oid)?;
    let keyword = rfc2253_keyword(&oid);
    let text = match (keyword, der_string(value.tag, value.value)) {
        (Some(_), Some(s)) => escape_rfc2253(&s),
        _ => format!("#{}", hex_lower(value.raw)),
    };
    Ok(format!("{}={}", keyword.unwrap_or(&oid), text))
}

/// The attribute keywords `X500Principal.RFC2253` prints by name; every other type is
/// printed as its OID.
fn rfc2253_keyword(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// The text of a directory string (`AVA.isDerString`, non-canonical): Printable, T61,
/// IA5, General, UTF8 and BMP strings.
fn der_string(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        0x13 | 0x14 | 0x16 | 0x1b | 0x0c => Some(String::from_utf8_lossy(value).into_owned()),
        0x1e => {
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => None,
    }
}

/// `AVA.toRFC2253String`'s escaping: `,=+<>#;"\` get a backslash, NUL becomes `\00`,
/// and leading or trailing spaces (and CRs) are escaped.
fn escape_rfc2253(s: &str) -> String {
    const ESCAPEES: &str = ",=+<>#;\"\\";
    let mut chars: Vec<String> = Vec::new();
    for c in s.chars() {
        match c {
            c if ESCAPEES.contains(c) => chars.push(format!("\\{c}")),
            '\0' => chars.push("\\00".into()),
            c => chars.push(c.to_string()),
        }
    }
    let blank = |s: &String| s == " " || s == "\r";
    let lead = chars.iter().position(|c| !blank(c)).unwrap_or(chars.len());
    let trail = chars.iter().rposition(|c| !blank(c));
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if i < lead || trail.is_none_or(|t| i > t) {
            out.push('\\');
        }
        out.push_str(c);
    }
    out
}

fn dotted_oid(bytes: &[u8]) -> Result<String, CertError> {
    let mut arcs: Vec<u128> = Vec::new();
    let mut cur: u128 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        cur = cur.checked_mul(128).ok_or(CertError("OID arc too large"))? | u128::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(cur);
            cur = 0;
        } else if i + 1 == bytes.len() {
            return Err(CertError("truncated OID"));
        }
    }
    let (&first, rest) = arcs.split_first().ok_or(CertError("empty OID"))?;
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for arc in rest {
        out.push_str(&format!(".{arc}"));
    }
    Ok(out)
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if value.len() < 0x80 {
            out.push(value.len() as u8);
        } else {
            out.extend([0x82, (value.len() >> 8) as u8, value.len() as u8]);
        }
        out.extend_from_slice(value);
        out
    }

    fn ava(oid: &[u8], tag: u8, value: &str) -> Vec<u8> {
        tlv(
            SET,
            &tlv(
                SEQUENCE,
                &[tlv(OID, oid), tlv(tag, value.as_bytes())].concat(),
            ),
        )
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    const C: &[u8] = &[0x55, 0x04, 0x06];
    const EMAIL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];

    fn cert_with_subject(rdns: &[Vec<u8>]) -> Vec<u8> {
        let subject = tlv(SEQUENCE, &rdns.concat());
        let alg = tlv(
            SEQUENCE,
            &tlv(OID, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
        );
        let tbs = [
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[1]),
            alg.clone(),
            tlv(SEQUENCE, &[]),
            tlv(SEQUENCE, &[]),
            subject,
        ]
        .concat();
        tlv(
            SEQUENCE,
            &[tlv(SEQUENCE, &tbs), alg, tlv(0x03, &[0])].concat(),
        )
    }

    #[test]
    fn subject_prints_most_specific_rdn_first() {
        let cert = cert_with_subject(&[
            ava(C, 0x13, "US"),
            ava(O, 0x0c, "Apache"),
            ava(CN, 0x0c, "alice"),
        ]);
        assert_eq!(subject_dn(&cert).unwrap(), "CN=alice,O=Apache,C=US");
    }

    #[test]
    fn special_characters_and_outer_spaces_are_escaped() {
        let cert = cert_with_subject(&[ava(CN, 0x0c, " a,b+c=d#\"x\\; ")]);
        assert_eq!(subject_dn(&cert).unwrap(), r#"CN=\ a\,b\+c\=d\#\"x\\\;\ "#);
    }

    #[test]
    fn attributes_without_an_rfc2253_keyword_print_as_oid_and_hex() {
        let cert = cert_with_subject(&[ava(EMAIL, 0x16, "a@b"), ava(CN, 0x0c, "bob")]);
        assert_eq!(
            subject_dn(&cert).unwrap(),
            "CN=bob,1.2.840.113549.1.9.1=#1603614062"
        );
    }

    #[test]
    fn super_user_gets_a_super_id_first() {
        let cert = cert_with_subject(&[ava(CN, 0x0c, "root")]);
        assert_eq!(
            client_ids(&cert, Some("CN=root")).unwrap(),
            vec![Id::new("super", "CN=root"), Id::new("x509", "CN=root")]
        );
        assert_eq!(
            client_ids(&cert, Some("CN=other")).unwrap(),
            vec![Id::new("x509", "CN=root")]
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 0x30, 0x03],
        ] {
            assert!(subject_dn(bad).is_err());
        }
    }

    #[test]
    fn oids_decode_multi_byte_arcs() {
        assert_eq!(dotted_oid(EMAIL).unwrap(), "1.2.840.113549.1.9.1");
        assert_eq!(
            dotted_oid(&[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19]).unwrap(),
            "0.9.2342.19200300.100.1.25"
        );
    }
}
