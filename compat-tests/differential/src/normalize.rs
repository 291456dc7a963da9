//! Rendering replies, events and handshakes as text in which two correct servers agree:
//! zxids relative to the zxid each server had when the seed began, session ids as the
//! index of the session in the run, times as "set or not", children lists sorted (Apache
//! ZooKeeper returns them in hash order).

use rzk::proto::*;
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Norm<'a> {
    pub base: i64,
    pub labels: &'a BTreeMap<i64, usize>,
}

impl Norm<'_> {
    pub fn zxid(&self, z: i64) -> String {
        match z {
            0 | -1 => z.to_string(),
            _ => format!("{:+}", z - self.base),
        }
    }

    pub fn session(&self, sid: i64) -> String {
        match self.labels.get(&sid) {
            _ if sid == 0 => "0".into(),
            Some(i) => format!("s{i}"),
            None => "s?".into(),
        }
    }

    pub fn stat(&self, s: &Stat) -> String {
        // A node never written keeps mtime == ctime; after a setData the two may or may
        // not fall in the same millisecond.
        let mtime = match (s.version, s.mtime == s.ctime) {
            (0, true) => "=c".to_string(),
            (0, false) => format!("!=c:{}", time(s.mtime)),
            _ => time(s.mtime),
        };
        format!(
            "{{cz={} mz={} pz={} ct={} mt={} v={} cv={} av={} eo={} dl={} nc={}}}",
            self.zxid(s.czxid),
            self.zxid(s.mzxid),
            self.zxid(s.pzxid),
            time(s.ctime),
            mtime,
            s.version,
            s.cversion,
            s.aversion,
            self.session(s.ephemeral_owner),
            s.data_length,
            s.num_children
        )
    }

    pub fn response(&self, r: &Response) -> String {
        match r {
            Response::Empty => "empty".into(),
            Response::Create(p) => format!("create {p}"),
            Response::Create2(c) => format!("create2 {} {}", c.path, self.stat(&c.stat)),
            Response::Stat(s) => format!("stat {}", self.stat(s)),
            Response::GetData(d) => format!("data {} {}", data(&d.data), self.stat(&d.stat)),
            Response::GetAcl { acl, stat } => format!("acl {} {}", acls(acl), self.stat(stat)),
            Response::GetChildren(c) => format!("children {}", sorted(c)),
            Response::GetChildren2 { children, stat } => {
                format!("children2 {} {}", sorted(children), self.stat(stat))
            }
            Response::Sync(p) => format!("sync {p}"),
            Response::Multi(rs) => {
                let parts: Vec<String> = rs.iter().map(|r| self.multi(r)).collect();
                format!("multi [{}]", parts.join(", "))
            }
            Response::Sasl(b) => format!("sasl {b:?}"),
            Response::GetEphemerals(p) => format!("ephemerals {}", sorted(p)),
            Response::AllChildrenNumber(n) => format!("allchildren {n}"),
            Response::AddWatch => "addwatch".into(),
            Response::WhoAmI(v) => {
                let parts: Vec<String> = v
                    .iter()
                    .map(|c| format!("{}:{}", c.auth_scheme, c.user))
                    .collect();
                format!("whoami [{}]", parts.join(", "))
            }
        }
    }

    fn multi(&self, r: &MultiResult) -> String {
        match r {
            MultiResult::Create(p) => format!("create {p}"),
            MultiResult::Create2(c) => format!("create2 {} {}", c.path, self.stat(&c.stat)),
            MultiResult::Delete => "delete".into(),
            MultiResult::SetData(s) => format!("setData {}", self.stat(s)),
            MultiResult::Check => "check".into(),
            MultiResult::GetChildren(c) => format!("children {}", sorted(c)),
            MultiResult::GetData(d) => format!("data {} {}", data(&d.data), self.stat(&d.stat)),
            MultiResult::Error(e) => format!("error {e:?}"),
        }
    }

    pub fn reply(&self, h: &ReplyHeader, r: &Response) -> String {
        format!(
            "reply xid={} zxid={} err={} {}",
            h.xid,
            self.zxid(h.zxid),
            err(h.err),
            self.response(r)
        )
    }

    pub fn event(&self, zxid: i64, e: &WatcherEvent) -> String {
        format!(
            "event {:?} state={} path={} zxid={}",
            e.event_type,
            e.state,
            e.path,
            self.zxid(zxid)
        )
    }

    pub fn connect(&self, c: &ConnectResponse) -> String {
        let sid = if c.timeout_ms > 0 {
            self.session(c.session_id)
        } else {
            format!("{:#x}", c.session_id)
        };
        format!(
            "connect proto={} timeout={} sid={} passwd={}B ro={:?}",
            c.protocol_version,
            c.timeout_ms,
            sid,
            c.passwd.len(),
            c.read_only
        )
    }
}

pub fn err(code: i32) -> String {
    match ErrorCode::try_from(code) {
        Ok(ErrorCode::Ok) => "0".into(),
        Ok(e) => format!("{e:?}"),
        Err(v) => v.to_string(),
    }
}

/// Creation and modification times only need to be real wall-clock milliseconds.
fn time(t: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    match t {
        0 => "0".into(),
        _ if (t - now).abs() < 3_600_000 => "t".into(),
        _ => format!("bad:{t}"),
    }
}

fn sorted(v: &[String]) -> String {
    let mut v = v.to_vec();
    v.sort();
    format!("{v:?}")
}

fn data(d: &Option<Vec<u8>>) -> String {
    match d {
        None => "null".into(),
        Some(b) => format!("{:?}", String::from_utf8_lossy(b)),
    }
}

fn acls(v: &[Acl]) -> String {
    let mut s = String::from("[");
    for a in v {
        let _ = write!(s, "{}:{}:{} ", a.perms, a.id.scheme, a.id.id);
    }
    s.push(']');
    s
}
