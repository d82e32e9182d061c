//! The stack section from synthetic results of two stacks: runs are grouped by stack and never
//! merged across stacks, the side-by-side table holds each stack's own figures, a rating that
//! flips between stacks gets its verdict line, and the charts are drawn and written as files.

use super::*;
use crate::test_support::{row, run};
use rtbench_results::Stack;

/// A run on `stack`: the floor at 180 B per delivery and short polling at `poll_bytes`, server CPU
/// `cpu_us` per delivery for both.
fn on(stack: Stack, poll_bytes: f64, cpu_us: f64) -> Run {
    let mut rows = vec![
        row("tcp", 20.0, 500, 50.0, 180.0),
        row("short_poll", 20.0, 500, 250_000.0, poll_bytes),
    ];
    for r in &mut rows {
        r.server_cpu_us_per_delivery = cpu_us;
    }
    rows[1].memory_per_connection_bytes = Some(4_096.0 * cpu_us);
    let mut r = run(&format!("{stack}/results.json"), rows);
    r.results.config.stack = stack;
    r
}

#[test]
fn one_stack_has_no_section_and_two_are_never_merged() {
    assert!(
        StackSection::of(&[on(Stack::H1, 900.0, 5.0)])
            .unwrap()
            .is_none()
    );
    let runs = [on(Stack::H1, 900.0, 5.0), on(Stack::H2Tls, 300.0, 9.0)];
    let groups = split(&runs);
    let keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["h1", "h2-tls"]);
    let s = StackSection::of(&runs).unwrap().unwrap();
    assert_eq!(s.stacks, ["h1", "h2-tls"]);
    let poll = &s
        .figures
        .iter()
        .find(|f| f.0 == Transport::ShortPoll)
        .unwrap()
        .1;
    let bytes: Vec<f64> = poll
        .iter()
        .map(|f| f.as_ref().unwrap().bytes_per_delivery)
        .collect();
    assert_eq!(bytes, [900.0, 300.0], "each stack's own figure, unmerged");
    let table = s.table();
    assert_eq!(
        table.headers[1..3],
        ["B/delivery h1".to_string(), "B/delivery h2-tls".to_string()]
    );
    let poll_row = table
        .rows
        .iter()
        .find(|r| r[0] == crate::transport::label(Transport::ShortPoll))
        .unwrap();
    assert_eq!(poll_row[1..7], ["900", "300", "5", "9", "20 KiB", "36 KiB"]);
}

#[test]
fn a_rating_that_flips_between_stacks_gets_a_verdict_line() {
    // 900 B over a 180 B floor is 5× (Alta); 300 B is 1.67× (Baja).
    let runs = [on(Stack::H1, 900.0, 5.0), on(Stack::H2Tls, 300.0, 5.0)];
    let s = StackSection::of(&runs).unwrap().unwrap();
    let poll = textbook::claims()
        .into_iter()
        .find(|c| c.transport == Transport::ShortPoll)
        .unwrap()
        .technique;
    let overhead: Vec<&String> = s
        .flips
        .iter()
        .filter(|f| f.starts_with(&format!("{poll}'s {} rating flips", OVERHEAD.name)))
        .collect();
    assert_eq!(overhead.len(), 1, "{:?}", s.flips);
    assert!(overhead[0].contains("Alta on h1"), "{}", overhead[0]);
    assert!(overhead[0].contains("Baja on h2-tls"), "{}", overhead[0]);
    let md = markdown(&s);
    assert!(md.contains("## Stacks"), "{md}");
    assert!(
        md.contains(&format!("- **flips**: {}", overhead[0])),
        "{md}"
    );
    // The same figures on both stacks: nothing flips.
    let same = [on(Stack::H1, 900.0, 5.0), on(Stack::H1Tls, 900.0, 5.0)];
    let s = StackSection::of(&same).unwrap().unwrap();
    assert!(s.flips.is_empty(), "{:?}", s.flips);
    assert!(markdown(&s).contains("No textbook rating flips"));
}

#[test]
fn the_rated_table_has_a_row_per_technique_and_stack_in_four_columns() {
    let runs = [on(Stack::H1, 900.0, 5.0), on(Stack::H2Tls, 300.0, 5.0)];
    let s = StackSection::of(&runs).unwrap().unwrap();
    let table = s.ratings_table();
    assert_eq!(table.headers.len(), 4, "{:?}", table.headers);
    let poll = textbook::claims()
        .into_iter()
        .find(|c| c.transport == Transport::ShortPoll)
        .unwrap()
        .technique;
    let at = table.rows.iter().position(|r| r[0] == poll).unwrap();
    let (first, second) = (&table.rows[at], &table.rows[at + 1]);
    assert_eq!(first[1], "h1");
    assert!(first[3].starts_with("Alta"), "{first:?}");
    assert_eq!(second[..2], ["".to_string(), "h2-tls".to_string()]);
    assert!(second[3].starts_with("Baja"), "{second:?}");
    assert_eq!(table.rows.len(), 2 * textbook::claims().len());
}

#[test]
fn the_page_and_summary_carry_the_section_and_the_charts_are_written() {
    let runs = [on(Stack::H1, 900.0, 5.0), on(Stack::H1Tls, 966.0, 7.0)];
    let html = crate::render_html(&runs).unwrap();
    assert!(
        html.contains("id=\"stacks\""),
        "the stack section is on the page"
    );
    assert!(
        html.contains("stack h1;"),
        "the headline names the first stack"
    );
    let md = crate::render_markdown_runs(&runs);
    assert!(
        md.contains("Stack h1-tls."),
        "each run's tables name its stack"
    );
    assert!(md.contains("## Stacks"));
    let s = StackSection::of(&runs).unwrap().unwrap();
    let dir = std::env::temp_dir().join(format!("rtbench-stacks-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let written = write_charts(&s, &dir).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "stacks-bytes.svg",
            "stacks-server-cpu.svg",
            "stacks-memory.svg"
        ]
    );
    let svg = std::fs::read_to_string(&written[0]).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("h1-tls") && svg.contains("966 B"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(crate::render_table(&runs[1].results).starts_with("stack h1-tls · "));
}
