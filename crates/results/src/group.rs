//! What makes two results documents the same stack, for every view that groups them (the
//! report's stack section, the regression gate's per-stack baselines): one function, so a new
//! dimension of the stack (the server engine, say) is added in one place.

use crate::Results;

/// The stack a document's rows ran on, as the report and the gate group by: `config.stack`, with
/// `-lean` appended when the server ran on the lean engine (`config.server.settings.http_engine`;
/// the same names as a multi-stack run's directories).
pub fn stack_key(results: &Results) -> String {
    let stack = results.config.stack;
    match results
        .config
        .server
        .as_ref()
        .map(|s| s.settings.http_engine)
    {
        Some(rtbench_proto::HttpEngine::Lean) => format!("{stack}-lean"),
        _ => stack.to_string(),
    }
}
