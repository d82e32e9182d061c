//! Figures that were not measured are left out of the written document rather than written as 0:
//! a row whose server was not measured ([`crate::Row::server_measured`] false: `rtbench run
//! --target` without `--target-pid`) is written without its server CPU and RSS figures. Serde
//! cannot skip a field on a sibling's value, so the serialised document is pruned here; reading
//! such a row gives 0 for the absent numbers and `server_measured: false` beside them.

use serde_json::Value;

/// The row's fields, by JSON pointer, that only the server's own measurement gives.
const SERVER_FIGURES: [(&str, &str); 4] = [
    ("", "server_cpu_us_per_delivery"),
    ("/totals", "server_cpu_us"),
    ("/totals", "server_rss_bytes"),
    ("/spread", "server_cpu_us_per_delivery"),
];

/// Removes the server figures of every row of the serialised document `doc` whose server was not
/// measured.
pub(crate) fn prune(doc: &mut Value) {
    let Some(rows) = doc.get_mut("rows").and_then(Value::as_array_mut) else {
        return;
    };
    for row in rows {
        if row.get("server_measured").and_then(Value::as_bool) != Some(false) {
            continue;
        }
        for (parent, field) in SERVER_FIGURES {
            if let Some(Value::Object(map)) = row.pointer_mut(parent) {
                map.remove(field);
            }
        }
    }
}
