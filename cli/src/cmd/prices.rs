//! `hookline prices`: the price table costs are computed at (pinned in the
//! binary, imported into the store, overridden by the deployment).

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use hookline_core::usage::{self, price};

use crate::config::{PriceArgs, Role, StoreArgs};

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    prices: PriceArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Every price known (overrides, imported, pinned) in USD per million
    /// tokens, and which one applies now.
    List {
        /// Print JSON (pico-dollars per token).
        #[arg(long)]
        json: bool,
    },
    /// Load a newer price table: LiteLLM's model_prices_and_context_window
    /// JSON (its Anthropic entries) or a file in the pinned table's shape.
    /// Its prices apply to messages made from --valid-from on; earlier
    /// messages keep the price they were made at.
    Import {
        /// The JSON file.
        file: PathBuf,
        /// When the prices take effect: a UTC day (YYYY-MM-DD) or an RFC
        /// 3339 time, taken to its whole hour. Default: the current hour.
        #[arg(long, value_name = "WHEN", value_parser = when)]
        valid_from: Option<DateTime<Utc>>,
    },
}

fn when(s: &str) -> Result<DateTime<Utc>, String> {
    price::parse_day_or_time(s)
        .ok_or_else(|| format!("{s:?} is not YYYY-MM-DD or an RFC 3339 time"))
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let overrides = opts.prices.overrides()?;
    let stores = opts.store.open(Role::Operator).await?;
    match opts.command {
        Command::Import { file, valid_from } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let from = price::hour_of(valid_from.unwrap_or_else(Utc::now));
            let source = format!("import {}", file.display());
            let (prices, _) = price::parse_price_file(&text, from, &source)
                .with_context(|| format!("{} is not a price table", file.display()))?;
            let n = stores.usage.put_prices(&prices).await?;
            println!(
                "imported {n} prices from {} valid from {}",
                file.display(),
                from.to_rfc3339()
            );
        }
        Command::List { json } => {
            let book = usage::book(stores.usage.as_ref(), overrides).await?;
            let now = Utc::now();
            if json {
                let all: Vec<_> = book
                    .all()
                    .map(|(layer, p)| {
                        let current = book.lookup(&p.model, now) == Some(p);
                        serde_json::json!({"layer": layer, "current": current, "price": p})
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(());
            }
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_header([
                "MODEL",
                "FROM",
                "LAYER",
                "NOW",
                "INPUT",
                "OUTPUT",
                "CACHE 5M",
                "CACHE 1H",
                "CACHE READ",
                "LONG CONTEXT",
            ]);
            for (layer, p) in book.all() {
                let r = &p.rates;
                let tier = p.tier.as_ref().map_or("-".to_owned(), |t| {
                    format!(
                        ">{}k: {}/{}",
                        t.threshold / 1000,
                        price::per_mtok(t.rates.input),
                        price::per_mtok(t.rates.output)
                    )
                });
                t.add_row([
                    p.model.clone(),
                    if p.valid_from == DateTime::UNIX_EPOCH {
                        "always".into()
                    } else {
                        p.valid_from.format("%Y-%m-%d %H:%M").to_string()
                    },
                    layer.to_owned(),
                    if book.lookup(&p.model, now) == Some(p) {
                        "*"
                    } else {
                        ""
                    }
                    .to_owned(),
                    price::per_mtok(r.input),
                    price::per_mtok(r.output),
                    price::per_mtok(r.cache_write_5m),
                    price::per_mtok(r.cache_write_1h),
                    price::per_mtok(r.cache_read),
                    tier,
                ]);
            }
            println!("{t}");
            println!("USD per million tokens. Pinned: {}", pinned_source());
        }
    }
    Ok(())
}

fn pinned_source() -> String {
    serde_json::from_str::<serde_json::Value>(price::PINNED_JSON)
        .ok()
        .map(|v| {
            format!(
                "{} ({})",
                v["source"].as_str().unwrap_or("?"),
                v["date"].as_str().unwrap_or("?")
            )
        })
        .unwrap_or_default()
}
