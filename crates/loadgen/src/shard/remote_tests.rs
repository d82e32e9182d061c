//! The coordinator's wait for remote shards, over loopback: hellos accepted by index, a wrong
//! version, a taken index and an index out of range refused with one line, a missing shard named
//! when the wait ends.

use super::remote::RemoteShards;
use super::{ShardHello, Welcome};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Connects as shard `index` with `version`; the connection and the coordinator's answer.
async fn hello(addr: SocketAddr, index: u32, version: &str) -> (TcpStream, Welcome) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let line = serde_json::to_string(&ShardHello {
        index,
        host: format!("host{index}"),
        version: version.into(),
    })
    .unwrap();
    stream
        .write_all(format!("{line}\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    BufReader::new(&mut stream)
        .read_line(&mut answer)
        .await
        .unwrap();
    (stream, serde_json::from_str(&answer).unwrap())
}

#[tokio::test]
async fn shards_join_by_index_and_bad_ones_are_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let wait = Duration::from_secs(20);
    let coordinator =
        tokio::spawn(async move { RemoteShards::accept(listener, 2, "1.2.3", wait).await });
    let (_one, w) = hello(addr, 1, "1.2.3").await;
    assert_eq!(w, Welcome::Accepted { shards: 2 });
    let refused = |w: Welcome| match w {
        Welcome::Refused { why } => why,
        other => panic!("accepted: {other:?}"),
    };
    let (_, w) = hello(addr, 0, "9.9.9").await;
    assert_eq!(
        refused(w),
        "it runs rtbench 9.9.9, the coordinator rtbench 1.2.3"
    );
    let (_, w) = hello(addr, 1, "1.2.3").await;
    assert_eq!(
        refused(w),
        "index 1 is already connected from host1 (127.0.0.1)"
    );
    let (_, w) = hello(addr, 2, "1.2.3").await;
    assert!(refused(w).starts_with("index 2 is out of range"));
    let (_zero, w) = hello(addr, 0, "1.2.3").await;
    assert_eq!(w, Welcome::Accepted { shards: 2 });
    let shards = coordinator.await.unwrap().unwrap();
    assert_eq!(shards.count(), 2);
    let taken = shards.take().await.unwrap();
    let order: Vec<u32> = taken.iter().map(|c| c.index).collect();
    assert_eq!(order, [0, 1], "phases get the shards by index");
    assert_eq!(taken[1].host, "host1 (127.0.0.1)");
    let err = shards.take().await.err().unwrap().to_string();
    assert!(err.contains("0 of 2 left"), "{err}");
}

#[tokio::test]
async fn the_wait_ends_naming_the_missing_indices() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let wait = Duration::from_millis(1_500);
    let coordinator =
        tokio::spawn(async move { RemoteShards::accept(listener, 3, "1.2.3", wait).await });
    let (_one, w) = hello(addr, 1, "1.2.3").await;
    assert_eq!(w, Welcome::Accepted { shards: 3 });
    let err = coordinator.await.unwrap().err().unwrap().to_string();
    assert_eq!(
        err,
        "remote shards: 1 of 3 connected within 1.5s; missing indices 0, 2"
    );
}
