//! A server in this process: `hookline_cli::cmd::serve::run(opts, listener,
//! shutdown)` (or any future of that shape) on a loopback port, stopped
//! through its shutdown future. For tests that need no process (a process
//! only where kill -9, signals or its output are the point:
//! [`crate::cli::Hookline::serve`]).

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running in this process.
pub struct InProcess {
    /// `http://127.0.0.1:PORT`.
    pub addr: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// The future that tells the server to stop.
pub type Shutdown = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

impl InProcess {
    /// Binds 127.0.0.1:0 and spawns `run(listener, shutdown)`.
    pub async fn start<F, Fut>(run: F) -> anyhow::Result<InProcess>
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        crate::log::init();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Self::start_on(listener, run)
    }

    /// Spawns `run(listener, shutdown)` on a listener bound already (its
    /// address was needed first, e.g. as a redirect URL another server is
    /// configured with).
    pub fn start_on<F, Fut>(listener: TcpListener, run: F) -> anyhow::Result<InProcess>
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        crate::log::init();
        let addr = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown: Shutdown = Box::pin(async {
            let _ = stopped.await;
        });
        let task = tokio::spawn(run(listener, shutdown));
        Ok(InProcess {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// Shuts it down and returns what the server returned (within 20 s).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), &mut self.task).await??
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.task.abort();
    }
}
