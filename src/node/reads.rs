//! Requests that do not change the tree (`FinalRequestProcessor`'s read cases): answered
//! from the committed tree when they reach the head of their connection's queue.
//!
//! Like Apache ZooKeeper 3.8.0: `exists` registers its watch before looking the node up
//! and checks no permission; getData/getChildren check existence, then READ, then register;
//! getACL needs READ or ADMIN and masks digest ids without ADMIN.

use super::core::Core;
use super::replies::{notification_frame, reply_frame};
use super::{ConnId, RequestBody};
use crate::pipeline::acl::check_acl;
use crate::pipeline::java_set::JavaHashSet;
use crate::proto::*;
use crate::watch::WatchKind;

type ReadResult = Result<Response, ErrorCode>;

impl Core {
    pub(super) fn answer_read(
        &mut self,
        conn: ConnId,
        xid: i32,
        body: RequestBody,
        received_ms: i64,
    ) {
        if !matches!(body, RequestBody::Unknown(_))
            && self.conns.get(&conn).is_none_or(|c| c.closing)
        {
            self.record_stale_reply();
        }
        self.read_issued(received_ms);
        let req = match body {
            RequestBody::Unknown(_) => {
                // UnimplementedRequestProcessor: zxid -1, then the connection is closed.
                self.send(
                    conn,
                    reply_frame(xid, -1, ErrorCode::Unimplemented, &Response::Empty),
                );
                self.close(conn);
                return;
            }
            RequestBody::Malformed(op) => {
                self.finish_read(conn, xid, op, Err(ErrorCode::MarshallingError), received_ms);
                return;
            }
            RequestBody::Ok(req) => req,
        };
        let session = self
            .conns
            .get(&conn)
            .and_then(|c| c.session)
            .unwrap_or_default();
        let result = if self.sessions.is_live(session) {
            self.read(conn, &req)
        } else {
            Err(ErrorCode::SessionExpired)
        };
        self.stats.record_read(&req, &result);
        match (&req, &result) {
            (Request::GetData(r), Ok(Response::GetData(d))) => {
                self.record_cached_reply(false, &r.path, &d.stat)
            }
            (Request::GetChildren2(r), Ok(Response::GetChildren2 { stat, .. })) => {
                self.record_cached_reply(true, &r.path, stat)
            }
            _ => {}
        }
        self.finish_read(conn, xid, req.op_code(), result, received_ms);
    }

    fn finish_read(
        &mut self,
        conn: ConnId,
        xid: i32,
        op: OpCode,
        result: ReadResult,
        received_ms: i64,
    ) {
        let (err, body) = match result {
            Ok(rsp) => (ErrorCode::Ok, rsp),
            Err(code) => (code, Response::Empty),
        };
        self.record_reply(conn, xid, op.short_name(), received_ms, false);
        self.send(conn, reply_frame(xid, self.last_applied_zxid, err, &body));
    }

    fn read(&mut self, conn: ConnId, req: &Request) -> ReadResult {
        match req {
            Request::Ping => Ok(Response::Empty),
            Request::Exists(r) => self.exists(conn, r),
            Request::GetData(r) => self.get_data(conn, &r.path, r.watch).map(Response::GetData),
            Request::GetChildren(r) => self
                .get_children(conn, &r.path, r.watch)
                .map(|(c, _)| Response::GetChildren(c)),
            Request::GetChildren2(r) => self
                .get_children(conn, &r.path, r.watch)
                .map(|(children, stat)| Response::GetChildren2 { children, stat }),
            Request::GetAcl(r) => self.get_acl(conn, &r.path),
            Request::Sync(r) => Ok(Response::Sync(r.path.clone())),
            Request::MultiRead(ops) => Ok(Response::Multi(
                ops.iter().map(|op| self.multi_read_op(conn, op)).collect(),
            )),
            Request::CheckWatches(r) => self.check_watches(conn, r, false),
            Request::RemoveWatches(r) => self.check_watches(conn, r, true),
            Request::SetWatches(w) | Request::SetWatches2(w) => {
                self.set_watches(conn, w);
                Ok(Response::Empty)
            }
            Request::AddWatch(r) => self.add_watch(conn, r),
            Request::GetEphemerals(r) => {
                Ok(Response::GetEphemerals(self.get_ephemerals(conn, &r.path)))
            }
            Request::GetAllChildrenNumber(r) => {
                self.check_read(conn, &r.path, perms::READ)?;
                Ok(Response::AllChildrenNumber(
                    self.tree.all_children_number(&r.path),
                ))
            }
            Request::WhoAmI => Ok(Response::WhoAmI(self.auth.client_info(self.auth_of(conn)))),
            _ => Err(ErrorCode::Unimplemented),
        }
    }

    fn auth_of(&self, conn: ConnId) -> &[Id] {
        self.conns
            .get(&conn)
            .map(|c| c.auth.as_slice())
            .unwrap_or(&[])
    }

    /// NoNode if absent, NoAuth without `perm`.
    fn check_read(&self, conn: ConnId, path: &str, perm: i32) -> Result<(), ErrorCode> {
        let node = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        let acl = self.tree.acl_ref(node);
        if check_acl(acl, perm, self.auth_of(conn), self.cfg.skip_acl) {
            Ok(())
        } else {
            Err(ErrorCode::NoAuth)
        }
    }

    fn exists(&mut self, conn: ConnId, r: &PathWatchRequest) -> ReadResult {
        if r.path.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        let stat = self.tree.stat(&r.path);
        if r.watch {
            let kind = if stat.is_some() {
                WatchKind::Data
            } else {
                WatchKind::Exist
            };
            self.watches.add(&r.path, conn, kind);
        }
        stat.map(Response::Stat).ok_or(ErrorCode::NoNode)
    }

    fn get_data(
        &mut self,
        conn: ConnId,
        path: &str,
        watch: bool,
    ) -> Result<GetDataResponse, ErrorCode> {
        self.check_read(conn, path, perms::READ)?;
        if watch {
            self.watches.add(path, conn, WatchKind::Data);
        }
        let (data, stat) = self.tree.data_and_stat(path).ok_or(ErrorCode::NoNode)?;
        Ok(GetDataResponse {
            data: data.map(<[u8]>::to_vec),
            stat,
        })
    }

    fn get_children(
        &mut self,
        conn: ConnId,
        path: &str,
        watch: bool,
    ) -> Result<(Vec<String>, Stat), ErrorCode> {
        self.check_read(conn, path, perms::READ)?;
        if watch {
            self.watches.add(path, conn, WatchKind::Child);
        }
        self.tree.children_and_stat(path).ok_or(ErrorCode::NoNode)
    }

    fn get_acl(&mut self, conn: ConnId, path: &str) -> ReadResult {
        self.check_read(conn, path, perms::READ | perms::ADMIN)?;
        let (acl, stat) = self.tree.acl_and_stat(path).ok_or(ErrorCode::NoNode)?;
        if self.check_read(conn, path, perms::ADMIN).is_ok() {
            return Ok(Response::GetAcl { acl, stat });
        }
        let masked = acl
            .into_iter()
            .map(|mut a| {
                if a.id.scheme == "digest" {
                    let user = a.id.id.split(':').next().unwrap_or_default().to_string();
                    a.id.id = format!("{user}:x");
                }
                a
            })
            .collect();
        Ok(Response::GetAcl { acl: masked, stat })
    }

    fn multi_read_op(&mut self, conn: ConnId, op: &Request) -> MultiResult {
        let r = match op {
            Request::GetChildren(r) => self
                .get_children(conn, &r.path, r.watch)
                .map(|(c, _)| MultiResult::GetChildren(c)),
            Request::GetData(r) => self
                .get_data(conn, &r.path, r.watch)
                .map(MultiResult::GetData),
            _ => Err(ErrorCode::MarshallingError),
        };
        r.unwrap_or_else(MultiResult::Error)
    }

    fn check_watches(&mut self, conn: ConnId, r: &WatchesRequest, remove: bool) -> ReadResult {
        // 3.8.0's WatcherType.fromInt only knows Children, Data and Any; anything else
        // fails the request as a MarshallingError.
        if !(1..=3).contains(&r.watcher_type) {
            return Err(ErrorCode::MarshallingError);
        }
        if !remove && self.watches.contains_throws(&r.path, r.watcher_type) {
            return Err(ErrorCode::MarshallingError);
        }
        let found = if remove {
            self.watches.remove(&r.path, conn, r.watcher_type)
        } else {
            self.watches.contains(&r.path, conn, r.watcher_type)
        };
        if found {
            Ok(Response::Empty)
        } else {
            Err(ErrorCode::NoWatcher)
        }
    }

    fn add_watch(&mut self, conn: ConnId, r: &AddWatchRequest) -> ReadResult {
        let kind = match r.mode {
            0 => WatchKind::Persistent,
            1 => WatchKind::PersistentRecursive,
            _ => return Err(ErrorCode::MarshallingError),
        };
        self.watches.add(&r.path, conn, kind);
        Ok(Response::AddWatch)
    }

    /// `getEphemerals` lists a copy of the session's `HashSet`, so paths come in Java's
    /// hash order, then filtered by plain string prefix.
    fn get_ephemerals(&self, conn: ConnId, prefix: &str) -> Vec<String> {
        let session = self
            .conns
            .get(&conn)
            .and_then(|c| c.session)
            .unwrap_or_default();
        let all = JavaHashSet::copy_of(self.tree.ephemerals(session.0)).into_iteration_order();
        let p = prefix.trim();
        if p.is_empty() || p == "/" {
            return all;
        }
        all.into_iter().filter(|e| e.starts_with(prefix)).collect()
    }

    /// Re-registration after a reconnect (`DataTree.setWatches`): changes the client missed
    /// since `relative_zxid` are reported at once, the rest are registered.
    fn set_watches(&mut self, conn: ConnId, w: &SetWatches) {
        let rel = w.relative_zxid;
        for path in &w.data_watches {
            match self.tree.get(path).map(|n| n.stat().mzxid) {
                None => self.notify(conn, path, EventType::NodeDeleted),
                Some(m) if m > rel => self.notify(conn, path, EventType::NodeDataChanged),
                Some(_) => self.watches.add(path, conn, WatchKind::Data),
            }
        }
        for path in &w.exist_watches {
            match self.tree.get(path) {
                Some(_) => self.notify(conn, path, EventType::NodeCreated),
                None => self.watches.add(path, conn, WatchKind::Exist),
            }
        }
        for path in &w.child_watches {
            match self.tree.get(path).map(|n| n.stat().pzxid) {
                None => self.notify(conn, path, EventType::NodeDeleted),
                Some(p) if p > rel => self.notify(conn, path, EventType::NodeChildrenChanged),
                Some(_) => self.watches.add(path, conn, WatchKind::Child),
            }
        }
        for path in &w.persistent_watches {
            self.watches.add(path, conn, WatchKind::Persistent);
        }
        for path in &w.persistent_recursive_watches {
            self.watches.add(path, conn, WatchKind::PersistentRecursive);
        }
    }

    fn notify(&mut self, conn: ConnId, path: &str, event_type: EventType) {
        let ev = WatcherEvent {
            event_type,
            state: KEEPER_STATE_SYNC_CONNECTED,
            path: path.to_string(),
        };
        self.send(conn, notification_frame(&ev));
    }

    /// `ContainerManager`: every check interval, empty containers and expired TTL nodes
    /// are deleted through the pipeline (op 20, no session, no ACL check).
    pub(super) fn maybe_reap_containers(&mut self) {
        if self.now_mono_ms < self.next_container_check_ms {
            return;
        }
        let interval = self.cfg.container_check_interval_ms.max(1);
        self.next_container_check_ms = self.now_mono_ms + interval;
        let budget = (self.cfg.container_max_per_minute.max(1) * interval / 60_000).max(1) as usize;
        let candidates = self
            .tree
            .reap_candidates(self.now_wall_ms, self.cfg.container_max_never_used_ms);
        for path in candidates.into_iter().take(budget) {
            let hdr = self.next_header(0, 0);
            let ctx = crate::pipeline::prep::RequestCtx {
                session: 0,
                cxid: 0,
                zxid: hdr.zxid,
                time: hdr.time,
                auth: &[],
            };
            let txn = self.prep.prepare_taking(
                &self.tree,
                &ctx,
                &mut Request::DeleteContainer(PathRequest { path }),
            );
            self.push_txn(hdr, txn, super::core::Origin::Server);
        }
    }
}
