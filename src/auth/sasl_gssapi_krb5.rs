//! The [`GssAcceptor`] over the system's MIT Kerberos (`libgssapi_krb5`, through the
//! `libgssapi` crate): what the JDK's Kerberos GSS provider does for
//! `GssKrb5Server` once `Krb5LoginModule` has put the service key in the JAAS subject.
//!
//! The service credential is acquired once at startup from the JAAS `keyTab` for the
//! JAAS `principal` (`gss_acquire_cred_from` with a `keytab` credential store, so the
//! process environment is not touched); this checks that the keytab holds the key.
//! The library reads the keytab again, and its replay cache, each time it accepts a
//! context: that is local file I/O on the core thread, bounded and short. No call here
//! talks to the KDC: an acceptor only decrypts the ticket with its own key.

use std::ffi::CString;
use std::fmt;
use std::ptr;

use libgssapi::context::{SecurityContext, ServerCtx};
use libgssapi::credential::Cred;
use libgssapi::error::{Error, MajorFlags};
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_KRB5_PRINCIPAL};
use libgssapi_sys as sys;

use super::jaas::Krb5Login;
use super::sasl_gssapi::{Accepted, GssAcceptor, GssAcceptorFactory, GssError};

fn gss_error(e: Error) -> GssError {
    GssError(e.to_string().trim().to_string())
}

/// The server's acceptor credential for its principal, shared by all connections.
pub struct Krb5Service {
    cred: Cred,
    principal: String,
}

impl fmt::Debug for Krb5Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Krb5Service")
            .field("principal", &self.principal)
            .finish()
    }
}

/// 1.2.840.113554.1.2.2.1, `GSS_KRB5_NT_PRINCIPAL_NAME`.
const NT_KRB5_PRINCIPAL: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01";

impl Krb5Service {
    /// Acquires the acceptor credential the JAAS login names. Without `useKeyTab` the
    /// default keytab is used; without `principal`, any key of the keytab is accepted.
    pub fn acquire(login: &Krb5Login) -> Result<Krb5Service, String> {
        let keytab = if login.use_key_tab {
            login.key_tab.clone()
        } else {
            None
        };
        let principal = login.principal.clone().unwrap_or_default();
        let cstr = |s: &str| CString::new(s).map_err(|_| format!("NUL byte in {s:?}"));
        let keytab = keytab.as_deref().map(cstr).transpose()?;
        let cred = unsafe { acquire_from(&principal, keytab.as_ref()) }.map_err(|e| {
            format!(
                "cannot get the acceptor credential of {principal:?}: {}",
                gss_error(e).0
            )
        })?;
        Ok(Krb5Service { cred, principal })
    }
}

/// `gss_import_name` + `gss_acquire_cred_from(keytab=...)`, releasing the name.
///
/// # Safety
/// Plain FFI: every pointer handed over lives across the calls.
unsafe fn acquire_from(principal: &str, keytab: Option<&CString>) -> Result<Cred, Error> {
    let fail = |major, minor| Error {
        major: MajorFlags::from_bits_retain(major),
        minor,
    };
    let mut minor: sys::OM_uint32 = 0;
    let mut name: sys::gss_name_t = ptr::null_mut();
    if !principal.is_empty() {
        let mut oid = sys::gss_OID_desc {
            length: NT_KRB5_PRINCIPAL.len() as sys::OM_uint32,
            elements: NT_KRB5_PRINCIPAL.as_ptr() as *mut _,
        };
        let mut buf = sys::gss_buffer_desc {
            length: principal.len(),
            value: principal.as_ptr() as *mut _,
        };
        let major = sys::gss_import_name(&mut minor, &mut buf, &mut oid, &mut name);
        if major != 0 {
            return Err(fail(major, minor));
        }
    }
    let key = c"keytab";
    let mut elements: Vec<sys::gss_key_value_element_desc> = keytab
        .iter()
        .map(|k| sys::gss_key_value_element_desc {
            key: key.as_ptr(),
            value: k.as_ptr(),
        })
        .collect();
    let store = sys::gss_key_value_set_desc {
        count: elements.len() as sys::OM_uint32,
        elements: elements.as_mut_ptr(),
    };
    let mut cred: sys::gss_cred_id_t = ptr::null_mut();
    let major = sys::gss_acquire_cred_from(
        &mut minor,
        name,
        sys::_GSS_C_INDEFINITE,
        ptr::null_mut(),
        sys::GSS_C_ACCEPT as sys::gss_cred_usage_t,
        &store,
        &mut cred,
        ptr::null_mut(),
        ptr::null_mut(),
    );
    let acquire_minor = minor;
    if !name.is_null() {
        sys::gss_release_name(&mut minor, &mut name);
    }
    if major != 0 {
        return Err(fail(major, acquire_minor));
    }
    Ok(Cred::from(cred))
}

/// The default realm of the Kerberos configuration (`KerberosUtil.getDefaultRealm`),
/// found by letting the library qualify a bare name; empty when there is none.
pub fn default_realm() -> String {
    let qualified = Name::new(b"rzk", Some(&GSS_NT_KRB5_PRINCIPAL))
        .and_then(|n| n.canonicalize(Some(&GSS_MECH_KRB5)))
        .and_then(|n| n.display_name());
    match qualified {
        Ok(buf) => {
            let text = String::from_utf8_lossy(&buf);
            text.split_once('@')
                .map(|(_, realm)| realm.to_string())
                .unwrap_or_default()
        }
        Err(_) => String::new(),
    }
}

impl GssAcceptorFactory for Krb5Service {
    fn new_acceptor(&self) -> Result<Box<dyn GssAcceptor>, GssError> {
        Ok(Box::new(Krb5Acceptor(ServerCtx::new(Some(
            self.cred.clone(),
        )))))
    }
}

struct Krb5Acceptor(ServerCtx);

impl GssAcceptor for Krb5Acceptor {
    fn accept(&mut self, token: &[u8]) -> Result<Accepted, GssError> {
        let out = self.0.step(token).map_err(gss_error)?;
        let token = out.map(|b| b.to_vec()).unwrap_or_default();
        Ok(Accepted {
            token,
            established: self.0.is_complete(),
        })
    }

    fn wrap(&mut self, message: &[u8]) -> Result<Vec<u8>, GssError> {
        self.0
            .wrap(false, message)
            .map(|b| b.to_vec())
            .map_err(gss_error)
    }

    fn unwrap(&mut self, token: &[u8]) -> Result<Vec<u8>, GssError> {
        self.0.unwrap(token).map(|b| b.to_vec()).map_err(gss_error)
    }

    fn peer_name(&mut self) -> Result<String, GssError> {
        let name = self.0.source_name().map_err(gss_error)?;
        let shown = name.display_name().map_err(gss_error)?;
        Ok(String::from_utf8_lossy(&shown).into_owned())
    }
}
