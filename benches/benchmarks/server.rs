//! An in-process rtbench server on 127.0.0.1:0, on a runtime and thread of its own so that the
//! clients being measured never share its executor (as in a real run, where it is another process).

use rtbench_server::ServerSettings;
use rtbench_server::testing::ThreadedTestServer;

/// A running server on a runtime of its own (the server crate's test server); shut down when
/// dropped.
pub struct InProcess(ThreadedTestServer);

impl InProcess {
    /// Starts a server with the default configuration on one worker thread of its own.
    pub fn start() -> InProcess {
        InProcess(ThreadedTestServer::start(ServerSettings::default()).expect("in-process server"))
    }
}

impl std::ops::Deref for InProcess {
    type Target = ThreadedTestServer;

    fn deref(&self) -> &ThreadedTestServer {
        &self.0
    }
}
