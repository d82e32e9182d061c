//! The target file: the defaults reproduce the contract's URLs and bodies byte for byte, a file's
//! templates and field names are applied, and each problem of a bad file is one line.

use super::*;

#[test]
fn the_defaults_are_the_contracts_urls_byte_for_byte() {
    let s = TargetSpec::default();
    assert_eq!(s.short_poll.render("t", "7", "0"), "/poll?topic=t&after=7");
    assert_eq!(
        s.long_poll.render("t", "7", "30000"),
        "/longpoll?topic=t&after=7&timeout_ms=30000"
    );
    assert_eq!(s.sse.render("t", "7", "0"), "/sse?topic=t");
    assert!(!s.sse.has_cursor());
    assert_eq!(s.websocket.render("t", "0", "0"), "/ws?topic=t&after=0");
    assert_eq!(s.publish.render("t", "", ""), "/publish?topic=t");
    assert_eq!(s.schedule, "/schedule");
    assert!(s.short_poll.topic_in_query());
    assert_eq!(s.short_poll.render_without_topic("0"), "/poll?after=0");
    for t in [
        Transport::ShortPoll,
        Transport::LongPoll,
        Transport::Sse,
        Transport::WebSocket,
    ] {
        let path = s.template(t).unwrap().render("x", "0", "0");
        assert!(path.starts_with(&format!("{}?", t.path())), "{path}");
    }
    let body = br#"{"seq":1,"t_pub_ns":2,"payload":"p"}"#;
    assert!(matches!(s.message(body), Cow::Borrowed(_)));
    assert!(matches!(s.batch(body), Cow::Borrowed(_)));
}

const ALT: &str = r#"
[urls]
short_poll = "/api/{topic}/poll?since={cursor}"
long_poll = "/api/{topic}/wait?since={cursor}"
sse = "/api/{topic}/stream"
websocket = "/api/{topic}/socket?since={cursor}"
publish = "/api/{topic}/publish"
schedule = "/api/schedule"

[fields]
seq = "n"
t_pub_ns = "due_ns"
payload = "data"
"#;

#[test]
fn a_files_templates_and_field_names_are_applied() {
    let s = TargetSpec::parse(ALT).unwrap();
    assert_eq!(s.short_poll.render("t", "3", "0"), "/api/t/poll?since=3");
    assert_eq!(s.long_poll.render("t", "3", "500"), "/api/t/wait?since=3");
    assert!(!s.short_poll.topic_in_query());
    assert_eq!(s.schedule, "/api/schedule");
    let ev = s.message(br#"{"n":4,"due_ns":9,"data":"hi"}"#);
    let parsed = rtbench_proto::event::parse_message(&ev).unwrap();
    assert_eq!(
        parsed,
        rtbench_proto::event::Message::Event(rtbench_proto::event::EventRef {
            seq: 4,
            t_pub_ns: 9,
            payload: "hi".into()
        })
    );
    let gap = s.message(br#"{"dropped":5}"#);
    assert_eq!(
        rtbench_proto::event::parse_message(&gap).unwrap(),
        rtbench_proto::event::Message::Gap { dropped: 5 }
    );
    let batch = s.batch(br#"{"dropped":0,"events":[{"n":1,"due_ns":2,"data":"a"}]}"#);
    let b = rtbench_proto::poll::parse_poll_response(&batch).unwrap();
    assert_eq!(b.events[0].seq, 1);
    assert_eq!(b.events[0].payload, "a");
}

#[test]
fn each_problem_of_a_bad_file_is_one_line() {
    let err =
        TargetSpec::parse("[urls]\nsse = \"/x?topic={topic}\"\nsocket = \"/ws\"\n").unwrap_err();
    assert_eq!(err.len(), 1);
    assert!(err[0].contains("unknown field `socket`"), "{err:?}");
    assert!(err[0].contains("line 3"), "{err:?}");

    let err = TargetSpec::parse(
        r#"
[urls]
short_poll = "/poll?after={cursor}"
websocket = "ws?topic={topic}&after={cursor}"
long_poll = "/lp?topic={topic}&after={cursor}&wait={seconds}"
publish = "/pub"
schedule = "/s/{topic}"
[fields]
seq = "id"
payload = "id"
"#,
    )
    .unwrap_err();
    let want = [
        "urls.short_poll: '/poll?after={cursor}' has no {topic}",
        "urls.long_poll: unknown placeholder '{seconds}'",
        "urls.websocket: 'ws?topic={topic}&after={cursor}' must start with '/'",
        "urls.publish: '/pub' has no {topic}",
        "urls.schedule: '/s/{topic}' must be a path",
        "fields.seq and fields.payload are both 'id'",
    ];
    assert_eq!(err.len(), want.len(), "{err:#?}");
    for (line, want) in err.iter().zip(want) {
        assert!(line.starts_with(want), "{line} / {want}");
        assert!(!line.contains('\n'));
    }
}

#[test]
fn a_file_that_cannot_be_read_names_itself() {
    let err = TargetSpec::load(Path::new("/nonexistent/target.toml")).unwrap_err();
    assert_eq!(err.lines.len(), 1);
    assert!(err.lines[0].starts_with("/nonexistent/target.toml: "));
}
