//! Round trips and captured bytes. The `testdata/*.hex` files were captured from two
//! Apache ZooKeeper 3.8.0 peers on loopback by `testdata/capture.py`, which played the
//! third member of the ensemble (see `testdata/README.md`).

use super::*;
use crate::proto::{ServerId, SessionId, Txn, TxnEntry, TxnHeader};

fn hex(name: &str) -> Vec<u8> {
    let text = match name {
        "election-header-from-1" => include_str!("testdata/election-header-from-1.hex"),
        "election-header-from-2" => include_str!("testdata/election-header-from-2.hex"),
        "fle-reply-from-1" => include_str!("testdata/fle-reply-from-1.hex"),
        "sync-down" => include_str!("testdata/zab-leader-to-learner-sync.hex"),
        "sync-up" => include_str!("testdata/zab-learner-to-leader-sync.hex"),
        "bcast-down" => include_str!("testdata/zab-leader-to-learner-broadcast.hex"),
        "bcast-up" => include_str!("testdata/zab-learner-to-leader-broadcast.hex"),
        _ => "",
    };
    let t = text.trim();
    (0..t.len() / 2)
        .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Splits a captured stream into records, checking each re-encodes to its exact bytes.
fn packets(mut b: &[u8]) -> Vec<QuorumPacket> {
    let lim = Limits::default();
    let mut out = vec![];
    while let Some((p, n)) = split_quorum_packet(b, &lim).unwrap() {
        let mut re = Vec::new();
        encode_quorum_packet(&p, &mut re);
        assert_eq!(re, &b[..n], "record {:?} re-encodes byte for byte", p.ptype);
        let typed = Packet::from_record(&p, &lim).unwrap();
        assert_eq!(
            typed.to_record(),
            p,
            "typed view of {typed:?} writes the same record"
        );
        out.push(p);
        b = &b[n..];
    }
    out
}

fn types(ps: &[QuorumPacket]) -> Vec<i32> {
    ps.iter().map(|p| p.ptype).collect()
}

#[test]
fn java_election_header_is_v1_with_the_election_address() {
    let b = hex("election-header-from-1");
    let (h, n) = decode_connection_header(&b).unwrap().unwrap();
    assert_eq!(n, b.len());
    assert_eq!(
        h,
        ConnectionHeader::V1 {
            sid: 1,
            addr: "127.0.0.1:23111".into()
        }
    );
    let mut re = Vec::new();
    encode_connection_header(&h, &mut re);
    assert_eq!(re, b);
    let (h2, _) = decode_connection_header(&hex("election-header-from-2"))
        .unwrap()
        .unwrap();
    assert_eq!(h2.sid(), 2);
}

#[test]
/// The first message on a new election connection is the last one queued for that peer
/// (`QuorumCnxManager.SendWorker` re-sends it): here server 1's LOOKING vote for server 2
/// from the election it just finished.
fn java_peer_resends_its_last_vote_on_a_new_connection() {
    let b = hex("fle-reply-from-1");
    let (len, body) = b.split_at(4);
    assert_eq!(
        u32::from_be_bytes(len.try_into().unwrap()) as usize,
        body.len()
    );
    let n = decode_notification(body).unwrap();
    assert_eq!(
        (n.state, n.leader, n.version),
        (PeerState::Looking, 2, NOTIFICATION_VERSION)
    );
    assert_eq!((n.zxid, n.election_epoch, n.peer_epoch), (0, 1, 0));
    assert!(n.config.ends_with(b"\nversion=0"));
    assert!(n
        .config
        .starts_with(b"server.1=127.0.0.1:23110:23111:participant\n"));
    let mut re = Vec::new();
    encode_notification(&n, &mut re);
    assert_eq!(re, body);
}

#[test]
fn java_leader_syncs_a_new_learner_with_leaderinfo_snap_newleader_uptodate() {
    let down = hex("sync-down");
    let ps = packets(&down[..down.len()]);
    assert_eq!(
        types(&ps[..2]),
        [PacketType::LeaderInfo as i32, PacketType::Snap as i32]
    );
    let lim = Limits::default();
    let li = Packet::from_record(&ps[0], &lim).unwrap();
    assert_eq!(
        li,
        Packet::LeaderInfo {
            zxid: Zxid::new(1, 0),
            protocol: ZAB_PROTOCOL_VERSION
        }
    );
}

#[test]
fn learner_discovery_packets_match_the_captured_bytes() {
    let up = hex("sync-up");
    let ps = packets(&up);
    let lim = Limits::default();
    let typed: Vec<Packet> = ps
        .iter()
        .map(|p| Packet::from_record(p, &lim).unwrap())
        .collect();
    assert_eq!(
        typed[0],
        Packet::FollowerInfo {
            zxid: Zxid(0),
            info: Some(LearnerInfo::current(3, 0))
        }
    );
    assert_eq!(
        typed[1],
        Packet::AckEpoch {
            zxid: Zxid(0),
            epoch: 0
        }
    );
    assert_eq!(typed[2], Packet::Ack(Zxid::new(1, 0)));
}

#[test]
fn java_leader_broadcasts_proposal_commit_and_pings() {
    let ps = packets(&hex("bcast-down"));
    let lim = Limits::default();
    let typed: Vec<Packet> = ps
        .iter()
        .map(|p| Packet::from_record(p, &lim).unwrap())
        .collect();
    let Packet::Proposal { zxid, txn } = &typed[0] else {
        panic!("{:?}", typed[0])
    };
    assert_eq!(txn.header.zxid, zxid.0);
    assert_eq!(typed[1], Packet::Commit(*zxid));
    assert!(typed
        .iter()
        .any(|p| matches!(p, Packet::Ping { touches: None, .. })));
}

#[test]
fn learner_ping_reply_carries_the_touch_table() {
    let ps = packets(&hex("bcast-up"));
    let lim = Limits::default();
    let ping = ps
        .iter()
        .map(|p| Packet::from_record(p, &lim).unwrap())
        .find(|p| matches!(p, Packet::Ping { .. }));
    let Some(Packet::Ping {
        touches: Some(t), ..
    }) = ping
    else {
        panic!("no ping reply")
    };
    assert_eq!(
        t,
        vec![SessionTouch {
            session: SessionId(0x0300000000000001),
            timeout_ms: 30000
        }]
    );
}

fn entry() -> TxnEntry {
    let header = TxnHeader {
        client_id: 7,
        cxid: 3,
        zxid: Zxid::new(2, 5).0,
        time: 99,
    };
    TxnEntry {
        header,
        txn: Txn::Delete("/x".into()),
        digest: None,
    }
}

#[test]
fn every_packet_kind_round_trips() {
    let lim = Limits::default();
    let z = Zxid::new(2, 5);
    let all = vec![
        Packet::Request(ForwardedRequest {
            session: SessionId(9),
            cxid: 1,
            op: 1,
            body: vec![1, 2],
            auth: vec![Id::new("ip", "1.2.3.4")],
        }),
        Packet::Proposal {
            zxid: z,
            txn: entry(),
        },
        Packet::Ack(z),
        Packet::Commit(z),
        Packet::Ping {
            zxid: z,
            touches: None,
        },
        Packet::Ping {
            zxid: z,
            touches: Some(vec![]),
        },
        Packet::RevalidateAsk {
            session: SessionId(4),
            timeout_ms: 3000,
        },
        Packet::RevalidateAnswer {
            session: SessionId(4),
            valid: true,
        },
        Packet::Sync,
        Packet::Inform {
            zxid: z,
            txn: entry(),
        },
        Packet::CommitAndActivate {
            zxid: z,
            leader: ServerId(3),
        },
        Packet::NewLeader {
            zxid: Zxid::new(2, 0),
            config: Some(b"version=0".to_vec()),
        },
        Packet::FollowerInfo {
            zxid: Zxid::new(1, 0),
            info: Some(LearnerInfo::current(1, 0)),
        },
        Packet::UpToDate,
        Packet::Diff(z),
        Packet::Trunc(z),
        Packet::Snap(z),
        Packet::ObserverInfo {
            zxid: Zxid::new(1, 0),
            info: Some(LearnerInfo::current(4, 0)),
        },
        Packet::LeaderInfo {
            zxid: Zxid::new(2, 0),
            protocol: ZAB_PROTOCOL_VERSION,
        },
        Packet::AckEpoch { zxid: z, epoch: -1 },
        Packet::InformAndActivate {
            zxid: z,
            leader: ServerId(3),
            txn: entry(),
        },
    ];
    for p in all {
        let mut b = Vec::new();
        encode_quorum_packet(&p.to_record(), &mut b);
        let (rec, n) = split_quorum_packet(&b, &lim).unwrap().unwrap();
        assert_eq!(n, b.len());
        assert_eq!(Packet::from_record(&rec, &lim).unwrap(), p);
    }
}

#[test]
fn a_partial_packet_asks_for_more_bytes() {
    let mut b = Vec::new();
    encode_quorum_packet(
        &Packet::Proposal {
            zxid: Zxid(1),
            txn: entry(),
        }
        .to_record(),
        &mut b,
    );
    for cut in 0..b.len() {
        assert_eq!(split_quorum_packet(&b[..cut], &Limits::default()), Ok(None));
    }
}

#[test]
fn a_packet_with_authinfo_cut_anywhere_asks_for_more_bytes() {
    let ids = vec![
        Id {
            scheme: "ip".into(),
            id: "127.0.0.1".into(),
        },
        Id {
            scheme: "digest".into(),
            id: "bob:x".into(),
        },
    ];
    let p = QuorumPacket {
        ptype: 1,
        zxid: Zxid(7),
        data: Some(vec![1, 2, 3]),
        authinfo: Some(ids),
    };
    let mut b = Vec::new();
    encode_quorum_packet(&p, &mut b);
    for cut in 0..b.len() {
        assert_eq!(
            split_quorum_packet(&b[..cut], &Limits::default()),
            Ok(None),
            "cut at {cut}"
        );
    }
    assert_eq!(
        split_quorum_packet(&b, &Limits::default()),
        Ok(Some((p, b.len())))
    );
}

#[test]
fn unknown_packet_type_is_an_error_not_a_panic() {
    let p = QuorumPacket {
        ptype: 99,
        zxid: Zxid(0),
        data: None,
        authinfo: None,
    };
    assert!(Packet::from_record(&p, &Limits::default()).is_err());
    let short = QuorumPacket {
        ptype: 18,
        zxid: Zxid(0),
        data: Some(vec![1]),
        authinfo: None,
    };
    assert!(Packet::from_record(&short, &Limits::default()).is_err());
}

#[test]
fn learner_info_is_read_positionally() {
    assert_eq!(LearnerInfo::decode(&[0; 4]), None);
    let three_four = LearnerInfo::decode(&[0, 0, 0, 0, 0, 0, 0, 5, 0, 1, 0, 0]).unwrap();
    assert_eq!(
        three_four,
        LearnerInfo {
            server_id: 5,
            protocol_version: Some(0x10000),
            config_version: None
        }
    );
}

#[test]
fn legacy_header_is_a_bare_sid_and_bad_markers_are_refused() {
    assert_eq!(
        decode_connection_header(&5i64.to_be_bytes()).unwrap(),
        Some((ConnectionHeader::Legacy { sid: 5 }, 8))
    );
    assert!(decode_connection_header(&(-7i64).to_be_bytes()).is_err());
    let mut b = Vec::new();
    b.extend_from_slice(&PROTOCOL_V1.to_be_bytes());
    b.extend_from_slice(&1i64.to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    assert!(
        decode_connection_header(&b).is_err(),
        "address length 0 is refused"
    );
    assert_eq!(decode_connection_header(&b[..12]).unwrap(), None);
}

#[test]
fn v2_header_joins_addresses_with_a_bar() {
    let h = ConnectionHeader::V2 {
        sid: 2,
        addrs: vec!["a:1".into(), "b:2".into()],
    };
    let mut b = Vec::new();
    encode_connection_header(&h, &mut b);
    assert_eq!(&b[20..], b"a:1|b:2");
    assert_eq!(decode_connection_header(&b).unwrap(), Some((h, b.len())));
}

#[test]
fn old_notification_layouts_follow_the_length_rules() {
    let mut n28 = Vec::new();
    n28.extend_from_slice(&0i32.to_be_bytes());
    n28.extend_from_slice(&3i64.to_be_bytes());
    n28.extend_from_slice(&Zxid::new(4, 1).0.to_be_bytes());
    n28.extend_from_slice(&9i64.to_be_bytes());
    let n = decode_notification(&n28).unwrap();
    assert_eq!((n.peer_epoch, n.version), (4, 0));
    let mut n40 = n28.clone();
    n40.extend_from_slice(&6i64.to_be_bytes());
    n40.extend_from_slice(&1i32.to_be_bytes());
    let n = decode_notification(&n40).unwrap();
    assert_eq!((n.peer_epoch, n.version), (6, 0));
    assert!(decode_notification(&n40[..36]).is_err());
    assert!(decode_notification(&n28[..27]).is_err());
    let mut bad = n40.clone();
    bad[36..40].copy_from_slice(&2i32.to_be_bytes());
    bad.extend_from_slice(&100i32.to_be_bytes());
    assert!(
        decode_notification(&bad).is_err(),
        "config length beyond the message"
    );
}
