//! One publish into the hub until every one of N waiting readers has woken and read the event:
//! the fan-out every push transport starts from (each reader stands for one connection's task).

use super::{PAYLOAD_BYTES, quick};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use rtbench_proto::{make_payload, mono_now_ns};
use rtbench_server::Hub;
use rtbench_server::hub::Topic;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

/// Waiting readers per benchmark.
const WAITERS: [usize; 4] = [1, 10, 100, 1000];

/// N reader tasks on one topic and the count of those that have read the latest event.
struct Fanout {
    topic: Arc<Topic>,
    waiters: usize,
    read: Arc<AtomicUsize>,
    all_read: Arc<Notify>,
}

impl Fanout {
    /// Spawns `waiters` readers on `rt`, each looping: wait for a publish, read after its cursor.
    fn start(rt: &Runtime, waiters: usize) -> Fanout {
        let hub = Hub::new(1024, 1);
        let topic = hub.topic("bench").expect("valid topic");
        let read = Arc::new(AtomicUsize::new(0));
        let all_read = Arc::new(Notify::new());
        for _ in 0..waiters {
            let (topic, read, all_read) = (topic.clone(), read.clone(), all_read.clone());
            let mut published = topic.subscribe();
            rt.spawn(async move {
                let (mut cursor, mut batch) = (0, Vec::new());
                while published.changed().await.is_ok() {
                    batch.clear();
                    topic.read_after_into(cursor, 64, &mut batch);
                    if let Some(last) = batch.last() {
                        cursor = last.seq;
                    }
                    if read.fetch_add(1, Ordering::AcqRel) + 1 == waiters {
                        all_read.notify_one();
                    }
                }
            });
        }
        Fanout {
            topic,
            waiters,
            read,
            all_read,
        }
    }

    /// Publishes one event and waits until every reader has read it.
    async fn publish_and_wait(&self, payload: &str) {
        self.read.store(0, Ordering::Release);
        self.topic
            .publish(mono_now_ns(), payload)
            .expect("the benchmark topic accepts every event");
        self.all_read.notified().await;
        debug_assert_eq!(self.read.load(Ordering::Acquire), self.waiters);
    }
}

fn publish_with_waiters(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let payload = make_payload(1, PAYLOAD_BYTES);
    let mut g = c.benchmark_group("hub_publish");
    for waiters in WAITERS {
        let fanout = Arc::new(Fanout::start(&rt, waiters));
        g.throughput(Throughput::Elements(waiters as u64));
        g.bench_with_input(BenchmarkId::new("waiters", waiters), &waiters, |b, _| {
            b.to_async(&rt).iter_custom(|iters| {
                let (fanout, payload) = (fanout.clone(), payload.clone());
                async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        fanout.publish_and_wait(&payload).await;
                    }
                    start.elapsed()
                }
            })
        });
    }
    g.finish();
    rt.shutdown_timeout(Duration::from_secs(1));
}

criterion_group! {
    name = benches;
    config = quick();
    targets = publish_with_waiters
}
