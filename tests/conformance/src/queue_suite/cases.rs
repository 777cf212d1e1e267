//! The checks of the `Queue` suite, one behaviour each.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context, ensure};
use chrono::Utc;
use hookline_core::queue::{OutMessage, Received, attr};
use tokio::time::Instant;

use super::{QueueFactory, depth_becomes, receive_until};

const SEC: Duration = Duration::from_secs(1);
/// Long enough for anything that should happen to have happened.
const PATIENCE: Duration = Duration::from_secs(15);

fn message(n: usize) -> OutMessage {
    OutMessage {
        body: format!(r#"{{"n": {n}, "text": "héllo"}}"#),
        attributes: BTreeMap::from([
            (attr::REQUEST_ID.to_owned(), format!("req-{n}")),
            (attr::EVENT_TYPE.to_owned(), "Stop".to_owned()),
        ]),
    }
}

/// Exactly one message from `got`.
fn one(mut got: Vec<Received>) -> anyhow::Result<Received> {
    ensure!(got.len() == 1, "expected one message, got {}", got.len());
    got.pop().context("one message")
}

pub async fn a_sent_message_is_received_with_its_body_attributes_and_id(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(5, 30 * SEC).await?;
    let sent = message(1);
    let id = q.main.send(&sent).await?;
    let got = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    ensure!(got.message_id == id, "{} != {id}", got.message_id);
    ensure!(got.body == sent.body, "body {:?}", got.body);
    ensure!(got.attributes == sent.attributes, "{:?}", got.attributes);
    ensure!(
        got.receive_count == 1,
        "receive count {}",
        got.receive_count
    );
    let sent_at = got.sent_at.context("sent_at")?;
    let skew = (Utc::now() - sent_at).num_seconds().abs();
    ensure!(skew < 60, "sent_at {sent_at} is {skew} s from now");
    Ok(())
}

pub async fn a_received_message_is_invisible_until_its_visibility_timeout_ends(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(5, 3 * SEC).await?;
    let id = q.main.send(&message(1)).await?;
    let first = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    let hidden = q.main.receive(10, SEC).await?;
    ensure!(hidden.is_empty(), "received while in flight: {hidden:?}");
    let again = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    ensure!(again.message_id == id, "another message: {again:?}");
    ensure!(
        again.receive_count == 2,
        "receive count {}",
        again.receive_count
    );
    ensure!(again.receipt != first.receipt, "a new receipt per receive");
    Ok(())
}

pub async fn changing_visibility_to_zero_makes_a_message_receivable_at_once(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(5, 60 * SEC).await?;
    let id = q.main.send(&message(1)).await?;
    let first = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    q.main
        .change_visibility(&first.receipt, Duration::ZERO)
        .await?;
    let started = Instant::now();
    let again = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    ensure!(
        again.message_id == id && again.receive_count == 2,
        "{again:?}"
    );
    ensure!(started.elapsed() < 30 * SEC, "not before its old timeout");
    Ok(())
}

pub async fn changing_visibility_extends_the_time_a_message_stays_hidden(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(5, SEC).await?;
    let id = q.main.send(&message(1)).await?;
    let first = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    q.main.change_visibility(&first.receipt, 5 * SEC).await?;
    // Past the queue's 1 s timeout, within the new 5 s one.
    let hidden = q.main.receive(10, 2 * SEC).await?;
    ensure!(
        hidden.is_empty(),
        "received before its new timeout: {hidden:?}"
    );
    let again = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    ensure!(
        again.message_id == id && again.receive_count == 2,
        "{again:?}"
    );
    Ok(())
}

pub async fn a_deleted_message_is_never_received_again(f: &dyn QueueFactory) -> anyhow::Result<()> {
    let q = f.pair(5, SEC).await?;
    q.main.send(&message(1)).await?;
    let got = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    q.main.delete(&got.receipt).await?;
    // Deleting again (a worker retrying its delete) is not an error.
    q.main.delete(&got.receipt).await?;
    // Past the visibility timeout: a message not deleted would be back.
    let after = q.main.receive(10, 3 * SEC).await?;
    ensure!(after.is_empty(), "received after delete: {after:?}");
    let depth = depth_becomes(&*q.main, 0, PATIENCE).await?;
    ensure!(depth == 0, "depth {depth} after delete");
    Ok(())
}

pub async fn a_message_moves_to_the_dlq_on_the_receive_after_max_receive_count(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(2, 60 * SEC).await?;
    let sent = message(7);
    let id = q.main.send(&sent).await?;
    for n in 1..=2 {
        let got = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
        ensure!(
            got.receive_count == n,
            "receive {n}: count {}",
            got.receive_count
        );
        q.main
            .change_visibility(&got.receipt, Duration::ZERO)
            .await?;
    }
    // The third receive would exceed maxReceiveCount = 2: it moves instead.
    let third = q.main.receive(10, 2 * SEC).await?;
    ensure!(third.is_empty(), "delivered a third time: {third:?}");
    let dead = one(receive_until(&*q.dlq, 1, PATIENCE).await?)?;
    ensure!(dead.message_id == id, "the same message: {dead:?}");
    ensure!(
        dead.body == sent.body && dead.attributes == sent.attributes,
        "{dead:?}"
    );
    let main_depth = depth_becomes(&*q.main, 0, PATIENCE).await?;
    ensure!(main_depth == 0, "main depth {main_depth}");
    let dlq_depth = depth_becomes(&*q.dlq, 1, PATIENCE).await?;
    ensure!(dlq_depth == 1, "dlq depth {dlq_depth}");
    Ok(())
}

pub async fn replaying_from_the_dlq_delivers_the_message_to_the_main_queue_again(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(1, 60 * SEC).await?;
    let sent = message(3);
    q.main.send(&sent).await?;
    let got = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    q.main
        .change_visibility(&got.receipt, Duration::ZERO)
        .await?;
    ensure!(
        q.main.receive(10, 2 * SEC).await?.is_empty(),
        "not redriven"
    );
    // Replay: receive from the DLQ, send to the source, delete from the DLQ.
    let dead = one(receive_until(&*q.dlq, 1, PATIENCE).await?)?;
    let replay = OutMessage {
        body: dead.body.clone(),
        attributes: dead.attributes.clone(),
    };
    q.main.send(&replay).await?;
    q.dlq.delete(&dead.receipt).await?;
    let back = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    ensure!(
        back.body == sent.body && back.attributes == sent.attributes,
        "{back:?}"
    );
    ensure!(
        back.receive_count == 1,
        "a new message: count {}",
        back.receive_count
    );
    let dlq_depth = depth_becomes(&*q.dlq, 0, PATIENCE).await?;
    ensure!(dlq_depth == 0, "dlq depth {dlq_depth}");
    Ok(())
}

pub async fn depth_counts_visible_and_in_flight_messages(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(5, 60 * SEC).await?;
    for n in 0..3 {
        q.main.send(&message(n)).await?;
    }
    ensure!(
        depth_becomes(&*q.main, 3, PATIENCE).await? == 3,
        "three sent"
    );
    let got = one(receive_until(&*q.main, 1, PATIENCE).await?)?;
    ensure!(
        depth_becomes(&*q.main, 3, PATIENCE).await? == 3,
        "one in flight"
    );
    q.main.delete(&got.receipt).await?;
    let depth = depth_becomes(&*q.main, 2, PATIENCE).await?;
    ensure!(depth == 2, "depth {depth} after one delete");
    Ok(())
}

pub async fn receive_returns_at_most_max_and_each_message_once_while_in_flight(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(5, 60 * SEC).await?;
    let mut sent = BTreeSet::new();
    for n in 0..5 {
        sent.insert(q.main.send(&message(n)).await?);
    }
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    while seen.len() < 5 && Instant::now() < deadline {
        let got = q.main.receive(2, SEC).await?;
        ensure!(got.len() <= 2, "{} messages for max 2", got.len());
        seen.extend(got.into_iter().map(|m| m.message_id));
    }
    let distinct: BTreeSet<String> = seen.iter().cloned().collect();
    ensure!(
        distinct.len() == seen.len(),
        "a message delivered twice: {seen:?}"
    );
    ensure!(distinct == sent, "received {distinct:?}, sent {sent:?}");
    Ok(())
}

pub async fn a_long_poll_returns_a_message_sent_while_it_waits(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(5, 60 * SEC).await?;
    let sender = q.main.clone();
    let send = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sender.send(&message(1)).await
    });
    let started = Instant::now();
    let got = q.main.receive(1, 10 * SEC).await?;
    let waited = started.elapsed();
    send.await??;
    ensure!(
        got.len() == 1,
        "the long poll returned {} messages",
        got.len()
    );
    ensure!(
        waited < 8 * SEC,
        "returned after {waited:?}, not when the message came"
    );
    Ok(())
}

pub async fn an_empty_receive_waits_for_the_requested_time(
    f: &dyn QueueFactory,
) -> anyhow::Result<()> {
    let q = f.pair(5, 60 * SEC).await?;
    let started = Instant::now();
    let got = q.main.receive(10, 2 * SEC).await?;
    let waited = started.elapsed();
    ensure!(got.is_empty(), "{got:?}");
    ensure!(
        waited >= Duration::from_millis(1800),
        "returned after {waited:?}"
    );
    Ok(())
}
