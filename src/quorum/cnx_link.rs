//! The bytes of one election connection (`QuorumCnxManager`'s `startConnection`,
//! `handleConnection`, `SendWorker.send`, `RecvWorker.run`): the header the dialling peer
//! sends first, then `int length` + message in both directions.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{info, warn};

use crate::proto::quorum::{
    decode_connection_header, encode_connection_header, ConnectionHeader, MAX_ELECTION_MESSAGE,
    PROTOCOL_V1, PROTOCOL_V2,
};

/// Largest address field of a header (`InitialMessage`).
const MAX_HEADER_ADDR: i32 = 2048;

/// Sends the V1 header (`protocol version, sid, "host:port"`): what 3.5+ peers send
/// unless `multiAddress.enabled` is set, and what 3.4 peers also accept.
pub async fn write_header(s: &mut TcpStream, sid: i64, addr: &str) -> io::Result<()> {
    let mut b = BytesMut::new();
    encode_connection_header(
        &ConnectionHeader::V1 {
            sid,
            addr: addr.to_string(),
        },
        &mut b,
    );
    s.write_all(&b).await?;
    s.flush().await
}

/// Reads exactly the header, leaving any message after it unread. A bare non-negative
/// first long is a 3.4 peer's sid.
pub async fn read_header(s: &mut TcpStream) -> io::Result<ConnectionHeader> {
    let first = s.read_i64().await?;
    let mut raw = BytesMut::new();
    raw.put_i64(first);
    if first >= 0 {
        return Ok(ConnectionHeader::Legacy { sid: first });
    }
    if first != PROTOCOL_V1 && first != PROTOCOL_V2 {
        return Err(io::Error::other(format!(
            "unknown election protocol version {first}"
        )));
    }
    let sid = s.read_i64().await?;
    let len = s.read_i32().await?;
    if !(1..=MAX_HEADER_ADDR).contains(&len) {
        return Err(io::Error::other(format!(
            "unreasonable address length {len} in a connection header"
        )));
    }
    let mut addr = vec![0; len as usize];
    s.read_exact(&mut addr).await?;
    raw.put_i64(sid);
    raw.put_i32(len);
    raw.put_slice(&addr);
    match decode_connection_header(&raw) {
        Ok(Some((h, _))) => Ok(h),
        Ok(None) => Err(io::Error::other("incomplete connection header")),
        Err(e) => Err(io::Error::other(e.to_string())),
    }
}

/// Writes one length-prefixed message.
pub async fn write_message<W: AsyncWriteExt + Unpin>(w: &mut W, body: &[u8]) -> io::Result<()> {
    let mut b = BytesMut::with_capacity(4 + body.len());
    b.put_i32(i32::try_from(body.len()).map_err(io::Error::other)?);
    b.put_slice(body);
    w.write_all(&b).await?;
    w.flush().await
}

/// Reads one message; a length outside 1..=512 KiB is an error (`RecvWorker`).
pub async fn read_message<R: AsyncReadExt + Unpin>(r: &mut R) -> io::Result<Bytes> {
    let len = r.read_i32().await?;
    let n = usize::try_from(len)
        .ok()
        .filter(|n| (1..=MAX_ELECTION_MESSAGE).contains(n));
    let Some(n) = n else {
        return Err(io::Error::other(format!(
            "Received packet with invalid packet: {len}"
        )));
    };
    let mut body = vec![0; n];
    r.read_exact(&mut body).await?;
    Ok(Bytes::from(body))
}

/// Dials `addr` within `timeout`, with Java's socket options (no Nagle).
pub async fn dial(addr: &str, timeout: Duration) -> io::Result<TcpStream> {
    let s = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connecting to {addr} timed out"),
            )
        })??;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Binds the election port (`Listener.acceptConnections`): up to `retries` attempts one
/// second apart, 0 meaning forever.
pub async fn bind(addr: SocketAddr, retries: u32) -> io::Result<TcpListener> {
    let mut attempt = 0u32;
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => {
                info!("accepting election connections on {addr}");
                return Ok(l);
            }
            Err(e) => {
                attempt += 1;
                warn!("cannot bind the election port {addr} (attempt {attempt}): {e}");
                if retries != 0 && attempt >= retries {
                    return Err(e);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (b, _) = l.accept().await.unwrap();
        (a, b)
    }

    #[tokio::test]
    async fn header_is_read_without_the_message_after_it() {
        let (mut a, mut b) = pair().await;
        write_header(&mut a, 3, "127.0.0.1:3888").await.unwrap();
        write_message(&mut a, b"hello").await.unwrap();
        let h = read_header(&mut b).await.unwrap();
        assert_eq!(
            h,
            ConnectionHeader::V1 {
                sid: 3,
                addr: "127.0.0.1:3888".into()
            }
        );
        assert_eq!(&read_message(&mut b).await.unwrap()[..], b"hello");
    }

    #[tokio::test]
    async fn legacy_header_is_the_bare_sid() {
        let (mut a, mut b) = pair().await;
        a.write_i64(7).await.unwrap();
        assert_eq!(
            read_header(&mut b).await.unwrap(),
            ConnectionHeader::Legacy { sid: 7 }
        );
    }

    #[tokio::test]
    async fn oversized_or_empty_messages_are_refused() {
        let (mut a, mut b) = pair().await;
        a.write_i32(MAX_ELECTION_MESSAGE as i32 + 1).await.unwrap();
        assert!(read_message(&mut b).await.is_err());
        let (mut a, mut b) = pair().await;
        a.write_i32(0).await.unwrap();
        assert!(read_message(&mut b).await.is_err());
    }

    #[tokio::test]
    async fn bad_header_address_length_is_refused() {
        let (mut a, mut b) = pair().await;
        a.write_i64(PROTOCOL_V1).await.unwrap();
        a.write_i64(1).await.unwrap();
        a.write_i32(4096).await.unwrap();
        assert!(read_header(&mut b).await.is_err());
    }
}
