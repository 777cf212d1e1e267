//! The replay use case: what `hookline dlq replay` and the dashboard's
//! replay buttons do. StartMessageMoveTask for an unfiltered replay of an
//! SQS DLQ, else [`dlq::replay`] message by message.

use std::sync::Arc;

use serde_json::json;

use super::audit::{self, Action, Operation};
use super::dlq::{self, Filter, ReplayOpts, ReplayReport};
use super::{Ops, OpsError, dlq_move};
use crate::queue::Queue;
use crate::queue::sqs::SqsQueue;

/// The source queue and its DLQ; the SQS handles when they are SQS queues
/// (for StartMessageMoveTask).
pub struct Queues {
    pub source: Arc<dyn Queue>,
    pub dlq: Arc<dyn Queue>,
    pub sqs: Option<(SqsQueue, SqsQueue)>,
}

/// What to replay: `hookline dlq replay`'s arguments, and the dashboard's
/// replay form.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    pub filter: Filter,
    /// No filter: every message (refused unless set, so an empty filter
    /// never replays everything by accident).
    pub all: bool,
    pub dry_run: bool,
    pub max: Option<usize>,
    pub rate: Option<f64>,
    /// With `all` on SQS: message by message instead of StartMessageMoveTask.
    pub no_native: bool,
}

impl Replay {
    /// Neither `all` nor a filter: refused.
    pub fn is_unspecified(&self) -> bool {
        !self.all && self.filter.is_all()
    }
}

/// What a replay did: the report of [`dlq::replay`], or the count moved by
/// StartMessageMoveTask.
#[derive(Debug)]
pub struct Replayed {
    pub report: ReplayReport,
    pub native: Option<i64>,
}

impl std::ops::Deref for Replayed {
    type Target = ReplayReport;
    fn deref(&self) -> &ReplayReport {
        &self.report
    }
}

/// Replays what `req` selects, and (unless a dry run) records it in the
/// operator audit as `actor`'s. `progress` is called with the count moved
/// so far and, when known, the count to move.
pub async fn replay(
    ops: &dyn Ops,
    queues: &Queues,
    req: &Replay,
    actor: &str,
    progress: &mut (dyn FnMut(usize, Option<usize>) + Send),
) -> Result<Replayed, OpsError> {
    let done = run(ops, queues, req, progress).await?;
    if !req.dry_run {
        let f = &req.filter;
        let detail = json!({
            "ids": f.ids, "event_type": f.event_type, "session": f.session,
            "since": f.since, "error_code": f.error_code, "all": req.all,
            "native": done.native.is_some(), "left": done.left,
            "dlq": queues.dlq.name(), "source": queues.source.name(),
        });
        let count = done
            .native
            .unwrap_or_else(|| i64::try_from(done.moved).unwrap_or(i64::MAX));
        let target = Some(queues.dlq.name().to_owned());
        audit::record(
            ops,
            Operation::new(actor, Action::Replay, target, count, detail),
        )
        .await?;
    }
    Ok(done)
}

async fn run(
    ops: &dyn Ops,
    queues: &Queues,
    req: &Replay,
    progress: &mut (dyn FnMut(usize, Option<usize>) + Send),
) -> Result<Replayed, OpsError> {
    if req.is_unspecified() {
        return Err(OpsError::Refused(
            "say what to replay: an id, a filter (--event-type, --session, --since, --error-code) or --all",
        ));
    }
    if let (Some((src, dq)), true, false, None, false) = (
        &queues.sqs,
        req.filter.is_all(),
        req.dry_run,
        req.max,
        req.no_native,
    ) {
        match dlq_move::native(ops, src, dq, req.rate, progress).await {
            Ok(moved) => {
                return Ok(Replayed {
                    report: ReplayReport {
                        moved: usize::try_from(moved).unwrap_or(0),
                        ..ReplayReport::default()
                    },
                    native: Some(moved),
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, cause = ?std::error::Error::source(&e), "StartMessageMoveTask not available; moving message by message");
            }
        }
    }
    let ropts = ReplayOpts {
        filter: req.filter.clone(),
        dry_run: req.dry_run,
        max: req.max,
        rate: req.rate,
    };
    let mut bar = |n: usize| progress(n, None);
    let report = dlq::replay(
        queues.dlq.as_ref(),
        queues.source.as_ref(),
        ops,
        &ropts,
        &mut bar,
    )
    .await?;
    Ok(Replayed {
        report,
        native: None,
    })
}
