//! What makes two results documents the same stack, for every view that groups them (the
//! report's stack section, the regression gate's per-stack baselines): one function, so a new
//! dimension of the stack (the server engine, say) is added in one place.

use crate::Results;

/// The stack a document's rows ran on, as the report and the gate group by: `config.stack`.
pub fn stack_key(results: &Results) -> String {
    results.config.stack.to_string()
}
