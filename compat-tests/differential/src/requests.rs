//! Drawing one client request: every opcode a client may send, with arguments that are
//! valid most of the time and wrong in every way the server checks some of the time.

use crate::workload::Generator;
use rzk::proto::*;

impl Generator {
    /// A request for `slot`; watch-arming requests are remembered for later setWatches.
    pub fn request(&mut self, slot: usize) -> Request {
        let req = match self.rng.below(100) {
            0..=19 => self.create(),
            20..=26 => Request::Delete(DeleteRequest {
                path: self.path(),
                version: self.version(),
            }),
            27..=35 => Request::SetData(SetDataRequest {
                path: self.path(),
                data: self.data(),
                version: self.version(),
            }),
            36..=55 => self.read(),
            56..=58 => Request::GetAcl(PathRequest { path: self.path() }),
            59..=62 => Request::SetAcl(SetAclRequest {
                path: self.path(),
                acl: self.acl(),
                version: self.version(),
            }),
            63 => Request::Sync(PathRequest { path: self.path() }),
            64 => Request::Check(CheckVersionRequest {
                path: self.path(),
                version: self.version(),
            }),
            65..=72 => Request::Multi(self.multi_ops()),
            73..=76 => Request::MultiRead(self.read_ops()),
            77..=81 => Request::AddWatch(AddWatchRequest {
                path: self.path(),
                mode: self.watch_mode(),
            }),
            82..=86 => self.watches_request(),
            87..=89 => self.auth(),
            90 | 91 => Request::GetEphemerals(PathRequest {
                path: self.ephemerals_prefix(),
            }),
            92 | 93 => Request::GetAllChildrenNumber(PathRequest { path: self.path() }),
            94 => Request::WhoAmI,
            95 => self.reconfig(),
            96 => Request::DeleteContainer(PathRequest { path: self.path() }),
            _ => self.read(),
        };
        self.remember_watch(slot, &req);
        req
    }

    fn remember_watch(&mut self, slot: usize, req: &Request) {
        let Some(s) = self.slots.get_mut(slot) else {
            return;
        };
        match req {
            Request::GetData(r) if r.watch => s.data.insert(r.path.clone()),
            Request::Exists(r) if r.watch => s.exist.insert(r.path.clone()),
            Request::GetChildren(r) | Request::GetChildren2(r) if r.watch => {
                s.child.insert(r.path.clone())
            }
            Request::AddWatch(r) if r.mode == 0 => s.persistent.insert(r.path.clone()),
            Request::AddWatch(r) if r.mode == 1 => s.recursive.insert(r.path.clone()),
            _ => false,
        };
    }

    fn create(&mut self) -> Request {
        let kind = self.rng.below(10);
        let flags = self.create_flags(kind);
        let mut path = self.path();
        if CreateMode::from_flag(flags).is_some_and(|m| m.is_sequential()) && self.rng.chance(70) {
            path.push('s');
        }
        let (data, acl) = (self.data(), self.acl());
        let r = CreateRequest {
            path,
            data,
            acl,
            flags,
        };
        match kind {
            0..=3 => Request::Create(r),
            4..=6 => Request::Create2(r),
            7 => Request::CreateContainer(r),
            _ => {
                let ttl = self
                    .rng
                    .pick(&[3_600_000, 3_600_000, 1, 0, -5, TTL_MAX_MS + 1]);
                Request::CreateTtl(CreateTtlRequest {
                    path: r.path,
                    data: r.data,
                    acl: r.acl,
                    flags: r.flags,
                    ttl,
                })
            }
        }
    }

    fn create_flags(&mut self, kind: usize) -> i32 {
        let odd = self.rng.chance(10);
        match kind {
            7 if !odd => 4,
            8 | 9 if !odd => self.rng.pick(&[5, 6]),
            _ if odd => self.rng.pick(&[4, 5, 6, 7, -1]),
            _ => self.rng.pick(&[0, 0, 1, 1, 2, 3]),
        }
    }

    fn read(&mut self) -> Request {
        let r = PathWatchRequest {
            path: self.path(),
            watch: self.rng.chance(50),
        };
        match self.rng.below(4) {
            0 => Request::Exists(r),
            1 => Request::GetData(r),
            2 => Request::GetChildren(r),
            _ => Request::GetChildren2(r),
        }
    }

    /// Write ops of a multi; each may fail, so failures land in every position.
    fn multi_ops(&mut self) -> Vec<Request> {
        let n = self.rng.below(5);
        (0..n)
            .map(|_| match self.rng.below(4) {
                0 => {
                    let flags = self.rng.pick(&[0, 1, 2, 3, 4, 5]);
                    let r = CreateRequest {
                        path: self.path(),
                        data: self.data(),
                        acl: self.acl(),
                        flags,
                    };
                    match (flags, self.rng.below(2)) {
                        (4, _) => Request::CreateContainer(r),
                        (5, _) => Request::CreateTtl(CreateTtlRequest {
                            path: r.path,
                            data: r.data,
                            acl: r.acl,
                            flags: 5,
                            ttl: 3_600_000,
                        }),
                        (_, 0) => Request::Create(r),
                        _ => Request::Create2(r),
                    }
                }
                1 => Request::Delete(DeleteRequest {
                    path: self.path(),
                    version: self.version(),
                }),
                2 => Request::SetData(SetDataRequest {
                    path: self.path(),
                    data: self.data(),
                    version: self.version(),
                }),
                _ => Request::Check(CheckVersionRequest {
                    path: self.path(),
                    version: self.version(),
                }),
            })
            .collect()
    }

    fn read_ops(&mut self) -> Vec<Request> {
        let n = self.rng.below(5);
        (0..n)
            .map(|_| {
                let r = PathWatchRequest {
                    path: self.path(),
                    watch: false,
                };
                if self.rng.chance(50) {
                    Request::GetData(r)
                } else {
                    Request::GetChildren(r)
                }
            })
            .collect()
    }

    fn watch_mode(&mut self) -> i32 {
        if self.rng.chance(5) {
            2
        } else {
            self.rng.below(2) as i32
        }
    }

    fn watches_request(&mut self) -> Request {
        let watcher_type = if self.rng.chance(5) {
            self.rng.pick(&[0, 6])
        } else {
            1 + self.rng.below(5) as i32
        };
        let r = WatchesRequest {
            path: self.path(),
            watcher_type,
        };
        if self.rng.chance(50) {
            Request::RemoveWatches(r)
        } else {
            Request::CheckWatches(r)
        }
    }

    fn auth(&mut self) -> Request {
        let (scheme, auth) = match self.rng.below(10) {
            0 => ("foo", "x".to_string()),
            1 => ("ip", "127.0.0.1".to_string()),
            _ => (
                "digest",
                self.rng
                    .pick(&["alice:pw1", "bob:pw2", "alice:wrong", "super:test"])
                    .to_string(),
            ),
        };
        Request::Auth(AuthPacket {
            auth_type: 0,
            scheme: scheme.into(),
            auth: auth.into_bytes(),
        })
    }

    fn ephemerals_prefix(&mut self) -> String {
        match self.rng.below(4) {
            0 => "/".into(),
            1 => "/t/a".into(),
            _ => self.path(),
        }
    }

    fn reconfig(&mut self) -> Request {
        Request::Reconfig(ReconfigRequest {
            joining_servers: "server.2=127.0.0.1:2888:3888;2182".into(),
            leaving_servers: String::new(),
            new_members: String::new(),
            cur_config_id: -1,
        })
    }
}
