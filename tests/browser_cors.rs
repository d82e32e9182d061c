//! CORS as a real browser enforces it: a page served from a second port (another origin) reads
//! `/poll` and `/sse` and publishes with a preflighted `POST /publish` of an `rtbench serve` with
//! the default `--cors-origin` (loopback pages); the same page is refused all three by a server
//! whose list does not hold its origin, and its refused publish never reaches the server.
//!
//! Headless Chromium (`--dump-dom`) loads the page, which writes what it read into the DOM. No
//! Chromium: the test is skipped with the reason printed (`.ci/run` installs it and sets
//! `RTBENCH_REQUIRE_REAL_CLIENTS=1`, which makes a missing one a failure).

mod real_clients;

use real_clients::{STEP, Serve, runs, unavailable};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Most requests the page server answers before its thread ends.
const PAGE_REQUESTS: usize = 20;

/// The page: reads `/poll` and `/sse` of topic `cors` and publishes to `cors-up` on `target`,
/// writing `poll: …`, `sse: …` and `publish: …` (`refused` when the browser refuses) into `#out`.
fn page(target: &str) -> String {
    format!(
        r#"<!doctype html><html><body><pre id="out"></pre><script>
const out = (line) => {{ document.getElementById('out').textContent += line + '\n'; }};
const target = '{target}';
fetch(target + '/poll?topic=cors').then((r) => r.json())
  .then((j) => out('poll: ' + j.events.map((e) => e.seq).join(',')))
  .catch(() => out('poll: refused'));
const source = new EventSource(target + '/sse?topic=cors');
source.onmessage = (e) => {{ out('sse: ' + JSON.parse(e.data).seq); source.close(); }};
source.onerror = () => {{ out('sse: refused'); source.close(); }};
fetch(target + '/publish?topic=cors-up', {{ method: 'POST',
  headers: {{ 'content-type': 'application/json' }}, body: 'from-the-page' }})
  .then((r) => r.json()).then((j) => out('publish: ' + j.seq))
  .catch(() => out('publish: refused'));
</script></body></html>"#
    )
}

/// Serves `html` to every request on a new loopback port (at most [`PAGE_REQUESTS`]); its
/// origin, `http://127.0.0.1:PORT`.
fn serve_page(html: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(PAGE_REQUESTS) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(STEP));
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    origin
}

/// The DOM headless Chromium holds after loading `url` (bounded in time).
fn dump_dom(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--virtual-time-budget=5000", "--dump-dom", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        let _ = stdout.read_to_string(&mut dom);
        dom
    });
    let deadline = Instant::now() + 2 * STEP;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish in time");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The `#out` lines of the page after Chromium ran it against `server`.
fn what_the_page_read(server: &Serve) -> Vec<String> {
    assert_eq!(server.publish("cors", "one"), 1);
    assert_eq!(server.publish("cors", "two"), 2);
    let origin = serve_page(page(&server.url("")));
    let dom = dump_dom(&format!("{origin}/"));
    let out = dom
        .split_once("<pre id=\"out\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .unwrap_or_else(|| panic!("no #out in {dom}"))
        .0;
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

fn chromium_or_skip() -> bool {
    let ok = runs("chromium");
    if !ok {
        unavailable("chromium is not installed (Debian: apt-get install chromium)");
    }
    ok
}

#[test]
fn a_loopback_page_reads_poll_and_sse_and_publishes_with_the_default_origins() {
    if !chromium_or_skip() {
        return;
    }
    let server = Serve::start(&[]);
    assert_eq!(
        what_the_page_read(&server),
        ["poll: 1,2", "publish: 1", "sse: 1"]
    );
}

#[test]
fn a_page_whose_origin_is_not_listed_is_refused_and_its_publish_never_arrives() {
    if !chromium_or_skip() {
        return;
    }
    let server = Serve::start(&["--cors-origin", "http://127.0.0.1:1"]);
    assert_eq!(
        what_the_page_read(&server),
        ["poll: refused", "publish: refused", "sse: refused"]
    );
    // The preflight was refused, so the browser never sent the POST: the topic has no event.
    assert_eq!(server.publish("cors-up", "after"), 1);
}
