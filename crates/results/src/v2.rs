//! Reading version 2 documents: their `lost` counted every scheduled event a client never
//! received, including the events a client was still behind on when the drain ended
//! (`overload.late`) and those the server had not yet published (`overload.unpublished`). Version 3
//! counts those two apart, so [`upgrade`] subtracts them from each row's `lost`.

use serde_json::Value;

/// Rewrites a version 2 document into version 3's shape.
pub fn upgrade(mut doc: Value) -> Result<Value, String> {
    let rows = doc
        .get_mut("rows")
        .and_then(Value::as_array_mut)
        .ok_or("missing field `rows`")?;
    for row in rows {
        let count = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
        let overload = row.get("overload");
        let explained = count(overload.and_then(|o| o.get("late")))
            + count(overload.and_then(|o| o.get("unpublished")));
        if let Some(lost) = row.get("lost").and_then(Value::as_u64) {
            row["lost"] = Value::from(lost.saturating_sub(explained));
        }
    }
    doc["schema_version"] = Value::from(3);
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn late_and_unpublished_leave_lost() {
        let doc = json!({"schema_version": 2, "rows": [
            {"lost": 10, "overload": {"late": 6, "unpublished": 3}},
            {"lost": 4},
        ]});
        let up = upgrade(doc).unwrap();
        assert_eq!(up["schema_version"], 3);
        assert_eq!(up["rows"][0]["lost"], 1);
        assert_eq!(up["rows"][1]["lost"], 4);
    }
}
