//! Property-based fuzz targets (proptest) of the hand-written parsers a client or peer feeds:
//! the raw-TCP frame decoder and command parser (`rtbench_proto::frame`), the load generator's SSE
//! parser (`rtbench_loadgen::clients::SseParser`) and the scenario file reader
//! (`rtbench_loadgen::scenario::parse`). Each must never panic, and must give the same result
//! however its input is split. [`fuzz`] runs a fixed, deterministic number of cases under
//! `cargo test`, or keeps drawing fresh cases for `RTBENCH_FUZZ_SECS` seconds (the CI fuzz run).

use bytes::BytesMut;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use rtbench_loadgen::clients::{SseBlock, SseParser};
use rtbench_proto::frame::{Command, decode_frame, encode_frame, encode_sub, parse_command};
use rtbench_proto::limits::MAX_FRAME_BYTES;
use std::time::{Duration, Instant};

/// Cases per round (one round without `RTBENCH_FUZZ_SECS`).
const CASES: u32 = 256;

/// Runs `test` on cases drawn from `strategy`: one deterministic round of [`CASES`], or rounds
/// with fresh seeds until `RTBENCH_FUZZ_SECS` seconds passed. Panics with the shrunk input on
/// the first failure.
pub fn fuzz<S: Strategy>(
    name: &str,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let secs: Option<u64> = std::env::var("RTBENCH_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok());
    let end = Instant::now() + Duration::from_secs(secs.unwrap_or(0));
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let (mut rounds, mut seed) = (0u64, [0u8; 32]);
    loop {
        seed[..8].copy_from_slice(&rounds.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
        let mut runner = TestRunner::new_with_rng(config.clone(), rng);
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("fuzz {name}: round {rounds}: {e}");
        }
        rounds += 1;
        if secs.is_none() || Instant::now() >= end {
            break;
        }
    }
    if secs.is_some() {
        eprintln!(
            "fuzz {name}: {} cases, no failure",
            rounds * u64::from(CASES)
        );
    }
}

/// Bytes, and cut points to deliver them at.
fn split_bytes(max: usize) -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    (
        prop::collection::vec(any::<u8>(), 0..max),
        prop::collection::vec(0..max, 0..8),
    )
}

/// `bytes` in pieces cut at `cuts` (sorted, clamped).
fn pieces<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for c in cuts.into_iter().chain([bytes.len()]) {
        out.push(&bytes[from..c]);
        from = c;
    }
    out
}

/// Frames (or the error) the decoder yields from `bytes` delivered in `parts`.
fn decode_all(parts: &[&[u8]]) -> (Vec<Vec<u8>>, bool) {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for part in parts {
        buf.extend_from_slice(part);
        loop {
            match decode_frame(&mut buf) {
                Ok(Some(f)) => frames.push(f.to_vec()),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

#[test]
fn fuzz_tcp_frame_decoder() {
    // Small length prefixes so that whole frames occur, not only "need more bytes".
    let prefix = prop::collection::vec((0u32..64, prop::collection::vec(any::<u8>(), 0..64)), 0..8)
        .prop_map(|fs| {
            fs.into_iter()
                .flat_map(|(n, b)| n.to_be_bytes().into_iter().chain(b))
                .collect::<Vec<u8>>()
        });
    let input = (
        prop_oneof![prefix, split_bytes(512).prop_map(|(b, _)| b)],
        prop::collection::vec(0usize..512, 0..8),
    );
    fuzz("tcp frame decoder", input, |(bytes, cuts)| {
        let whole = decode_all(&[&bytes]);
        let split = decode_all(&pieces(&bytes, &cuts));
        prop_assert_eq!(&whole, &split);
        prop_assert!(whole.0.iter().all(|f| f.len() <= MAX_FRAME_BYTES));
        for f in &whole.0 {
            let _ = parse_command(f);
        }
        Ok(())
    });
}

#[test]
fn fuzz_tcp_frames_round_trip() {
    let bodies = prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..6);
    fuzz(
        "tcp frame round trip",
        (bodies, prop::collection::vec(0usize..2000, 0..8)),
        |(bodies, cuts)| {
            let mut wire = BytesMut::new();
            bodies.iter().for_each(|b| encode_frame(b, &mut wire));
            let (frames, err) = decode_all(&pieces(&wire, &cuts));
            prop_assert!(!err);
            prop_assert_eq!(frames, bodies);
            Ok(())
        },
    );
}

#[test]
fn fuzz_tcp_commands() {
    let sub = ("[A-Za-z0-9_.-]{1,64}", any::<u64>());
    fuzz(
        "tcp command parser",
        (any::<Vec<u8>>(), sub),
        |(junk, (topic, after))| {
            let _ = parse_command(&junk);
            let mut wire = BytesMut::new();
            encode_sub(&topic, after, &mut wire);
            let body = decode_frame(&mut wire).unwrap().unwrap();
            let want = Command::Sub {
                topic: &topic,
                after,
                publish_to: None,
            };
            prop_assert_eq!(parse_command(&body), Ok(want));
            Ok(())
        },
    );
}

/// Blocks the SSE parser yields from `parts`.
fn sse_blocks(parts: &[&[u8]]) -> Vec<SseBlock> {
    let mut p = SseParser::default();
    let mut out = Vec::new();
    for part in parts {
        p.push(part);
        while let Some(b) = p.next_block() {
            out.push(b);
        }
    }
    out
}

#[test]
fn fuzz_sse_parser() {
    // Streams built from the grammar's pieces and from arbitrary bytes.
    let piece = prop_oneof![
        Just(b"data: x".to_vec()),
        Just(b"id: 7".to_vec()),
        Just(b"retry: 10".to_vec()),
        Just(b"event: gap".to_vec()),
        Just(b":".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"data".to_vec()),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    let stream = prop::collection::vec(piece, 0..40).prop_map(|p| p.concat());
    fuzz(
        "sse parser",
        (stream, prop::collection::vec(0usize..400, 0..8)),
        |(bytes, cuts)| {
            let whole = sse_blocks(&[&bytes]);
            let split = sse_blocks(&pieces(&bytes, &cuts));
            prop_assert_eq!(whole, split);
            Ok(())
        },
    );
}

/// The built-in scenario files, as mutation seeds.
fn seeds() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn fuzz_scenario_reader() {
    let seeds = seeds();
    let edits = prop::collection::vec(
        (any::<prop::sample::Index>(), 0usize..4, "[ -~\n]{0,12}"),
        0..6,
    );
    let input = (any::<prop::sample::Index>(), edits, any::<String>());
    fuzz("scenario reader", input, |(seed, edits, junk)| {
        let mut text = seeds[seed.index(seeds.len())].clone();
        for (at, cut, insert) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            let mut j = (i + cut).min(text.len());
            while !text.is_char_boundary(j) {
                j += 1;
            }
            text.replace_range(i..j, &insert);
        }
        for t in [&text, &junk] {
            if let Err(e) = rtbench_loadgen::scenario::parse("fuzz", "fuzz.toml", t) {
                let msg = e.to_string();
                prop_assert!(!msg.contains('\n'), "not one line: {:?}", msg);
            }
        }
        Ok(())
    });
}
