//! The HTML page and the Markdown summary rendered from committed results of real runs
//! (`tests/fixtures/`: the default run, the same at 2 events/s, and short polling at 100 ms).
//!
//! The page must parse as HTML5 without a single parse error and as well-formed XML; every chart
//! must be well-formed SVG drawing one series per transport its data holds, each with one legend
//! entry; the Markdown must match the committed snapshot (`UPDATE_SNAPSHOTS=1` rewrites it).

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use rtbench_report::{Run, rating, render_html, render_markdown_runs, transport};
use rtbench_results::{Results, Transport};
use scraper::{Html, Selector};
use std::collections::BTreeMap;
use std::path::Path;

const FIXTURES: [&str; 3] = ["base.json", "rate2.json", "poll100.json"];
const ALL: [&str; 5] = ["tcp", "websocket", "sse", "long_poll", "short_poll"];

fn runs() -> Vec<Run> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    FIXTURES
        .iter()
        .map(|f| Run {
            source: format!("fixtures/{f}"),
            results: Results::load(&dir.join(f)).unwrap(),
        })
        .collect()
}

/// What one SVG draws: marks (lines, bars, points) counted per colour, and its text.
#[derive(Debug, Default)]
struct Svg {
    marks: BTreeMap<String, usize>,
    texts: Vec<String>,
}

fn attr(e: &BytesStart, key: &str) -> Option<String> {
    e.attributes()
        .map(|a| a.expect("well-formed attribute"))
        .find(|a| a.key.as_ref() == key)
        .map(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .expect("attribute value unescapes")
                .into_owned()
        })
}

/// Parses `svg` strictly as XML (balanced, matching end tags); panics on any error.
fn parse_svg(svg: &str) -> Svg {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut out = Svg::default();
    let mut root = None;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("SVG not well-formed: {e}"));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref().as_ref()).into_owned();
                if root.is_none() {
                    assert_eq!(
                        attr(&e, "xmlns").as_deref(),
                        Some("http://www.w3.org/2000/svg")
                    );
                    root = Some(name.clone());
                }
                let colour = match name.as_str() {
                    "polyline" => attr(&e, "stroke"),
                    "rect" | "circle" => attr(&e, "fill"),
                    _ => None,
                };
                if let Some(c) = colour {
                    *out.marks.entry(c).or_default() += 1;
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content().trim().to_string();
                if !s.is_empty() {
                    out.texts.push(s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("svg"), "root element");
    out
}

/// The `<svg>…</svg>` elements of the page, in order, as written.
fn svgs(page: &str) -> Vec<&str> {
    page.match_indices("<svg ")
        .map(|(start, _)| {
            let end =
                start + page[start..].find("</svg>").expect("every svg closes") + "</svg>".len();
            &page[start..end]
        })
        .collect()
}

#[test]
fn the_page_parses_as_html5_without_errors_and_as_xml() {
    let page = render_html(&runs()).unwrap();
    let doc = Html::parse_document(&page);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    let mut reader = quick_xml::Reader::from_str(&page);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "page is not well-formed at byte {}: {e}",
                reader.buffer_position()
            ),
        }
    }
    for external in ["<script", "<link", "<img", " src=", "href=\"http", "url("] {
        assert!(!page.contains(external), "page loads something: {external}");
    }
}

#[test]
fn every_chart_draws_one_series_per_transport_with_a_legend_entry() {
    let page = render_html(&runs()).unwrap();
    let doc = Html::parse_document(&page);
    let figures: Vec<_> = doc.select(&Selector::parse("figure").unwrap()).collect();
    let drawn = svgs(&page);
    assert_eq!(figures.len(), drawn.len(), "one svg per figure");
    let mut by_id = BTreeMap::new();
    for (fig, svg) in figures.iter().zip(drawn) {
        let id = fig.value().attr("id").unwrap().to_string();
        let listed: Vec<&str> = fig
            .value()
            .attr("data-transports")
            .unwrap()
            .split(' ')
            .collect();
        let svg = parse_svg(svg);
        for t in Transport::ALL {
            let legend = svg
                .texts
                .iter()
                .filter(|s| *s == transport::label(t))
                .count();
            let marks = svg
                .marks
                .get(&transport::colour_hex(t))
                .copied()
                .unwrap_or(0);
            if listed.contains(&t.as_str()) {
                assert_eq!(legend, 1, "{id}: one legend entry for {t}");
                if id.starts_with("cost-") {
                    assert!(
                        svg.texts.iter().any(|s| s == t.as_str()),
                        "{id}: {t}'s bar carries its name, not only a colour"
                    );
                }
                assert!(
                    marks >= 2,
                    "{id}: {t} has a legend swatch and data marks, found {marks}"
                );
            } else {
                assert_eq!(
                    (legend, marks),
                    (0, 0),
                    "{id}: {t} is drawn but not in its data"
                );
            }
        }
        by_id.insert(id, listed);
    }
    let expect_all = [
        "latency-spectrum",
        "latency-cdf",
        "cost-bytes",
        "cost-requests",
        "cost-server-cpu",
        "sweep-event-rate-latency-p50",
        "sweep-event-rate-bytes",
        "sweep-poll-interval-latency-p50",
        "sweep-poll-interval-bytes",
        "short-poll-tradeoff",
    ];
    for id in expect_all {
        assert_eq!(
            by_id.get(id).map(|v| v.as_slice()),
            Some(ALL.as_slice()),
            "{id}"
        );
    }
    assert_eq!(
        by_id.len(),
        expect_all.len(),
        "no other chart: packets, memory and idle were not measured"
    );
    assert!(page.contains("Not measured in this data, so not drawn: TCP packets per delivery."));
}

#[test]
fn the_textbook_table_states_its_rule_and_a_verdict_per_cell() {
    let page = render_html(&runs()).unwrap();
    let doc = Html::parse_document(&page);
    let rows: Vec<_> = doc
        .select(&Selector::parse("table.textbook tbody tr").unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    let verdicts = Selector::parse("td.verdict").unwrap();
    for row in &rows {
        let cells: Vec<_> = row.select(&verdicts).collect();
        assert_eq!(cells.len(), 2);
        for c in cells {
            let class = c.value().attr("class").unwrap();
            assert!(
                class.contains("agrees") || class.contains("disagrees"),
                "{class}"
            );
        }
    }
    let text: String = doc.root_element().text().collect();
    for s in [rating::LATENCY, rating::OVERHEAD] {
        assert!(
            text.contains(&s.rules().join(" · ")),
            "rule of {} stated",
            s.name
        );
    }
    assert!(
        text.contains("flips with")
            || text.contains("holds across")
            || text.contains("disagrees across")
    );
    assert!(
        text.contains("git checkout "),
        "the command that reproduces each run"
    );
}

#[test]
fn the_markdown_matches_its_snapshot() {
    let md = render_markdown_runs(&runs());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/summary.md");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &md).unwrap();
    }
    let want =
        std::fs::read_to_string(&path).expect("snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert!(
        md == want,
        "Markdown differs from {}; got:\n{md}",
        path.display()
    );
}
