//! A real OpenID Connect provider for sign-in tests: the certified
//! `oidc-provider` from npm (tests/oidc-provider, installed by its `install`
//! script), run by `node tests/oidc-provider/provider.mjs` on a free port
//! and killed when dropped; and [`Browser`], a client that follows
//! redirects one by one and keeps cookies per host as a browser would, so a
//! test can walk the authorization code flow with reqwest.
//!
//! The provider's accounts (provider.mjs): alice/alice-pw and bob/bob-pw
//! (group `engineering`), carol/carol-pw (also `hookline-admins`),
//! dave/dave-pw (no `preferred_username`). Clients: `hookline` (secret
//! [`CLIENT_SECRET`]) and `hookline-public` (no secret), PKCE required.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};

use crate::process::{Killed, free_port, wait_for};

/// The confidential client's secret.
pub const CLIENT_SECRET: &str = "hookline-test-secret";

/// The provider's directory (tests/oidc-provider).
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/oidc-provider")
}

/// A running provider.
pub struct Provider {
    /// `http://localhost:PORT` (another site than the dashboard's
    /// 127.0.0.1, as a real provider is).
    pub issuer: String,
    _child: Killed,
    _log: tempfile::TempDir,
}

impl Provider {
    /// Starts it with `redirect_uris` registered for both clients; `None`
    /// (and a SKIPPED line) outside CI when it is not installed.
    pub fn start(redirect_uris: &[&str]) -> anyhow::Result<Option<Provider>> {
        let dir = dir();
        if !dir
            .join("node_modules/oidc-provider/package.json")
            .is_file()
        {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            anyhow::ensure!(
                !ci,
                "oidc-provider is not installed: run tests/oidc-provider/install"
            );
            eprintln!("SKIPPED: oidc-provider is not installed; run tests/oidc-provider/install");
            return Ok(None);
        }
        let port = free_port()?;
        let log = tempfile::tempdir()?;
        let out = log.path().join("provider.log");
        let child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("REDIRECT_URIS", redirect_uris.join(","))
            .stdout(std::fs::File::create(&out)?)
            .stderr(std::fs::File::create(log.path().join("provider.err"))?)
            .stdin(Stdio::null())
            .spawn()
            .context("cannot run node (Node 20 or later is needed)")?;
        let child = Killed(child);
        wait_for(&out, "oidc-provider: listening")?;
        Ok(Some(Provider {
            issuer: format!("http://localhost:{port}"),
            _child: child,
            _log: log,
        }))
    }
}

/// An answer as [`Browser`] saw it.
pub struct Page {
    pub url: reqwest::Url,
    pub status: StatusCode,
    pub body: String,
}

/// reqwest without its redirects, with cookies kept per host and port.
pub struct Browser {
    http: reqwest::Client,
    jars: HashMap<String, HashMap<String, String>>,
}

fn origin(url: &reqwest::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Browser {
    pub fn new() -> anyhow::Result<Browser> {
        Ok(Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            jars: HashMap::new(),
        })
    }

    /// The cookie `name` held for `url`'s host and port.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(url).ok()?;
        self.jars.get(&origin(&url))?.get(name).cloned()
    }

    /// Sets (or, with `None`, removes) a cookie for `url`'s host and port.
    pub fn set_cookie(&mut self, url: &str, name: &str, value: Option<&str>) -> anyhow::Result<()> {
        let jar = self
            .jars
            .entry(origin(&reqwest::Url::parse(url)?))
            .or_default();
        match value {
            Some(v) => jar.insert(name.into(), v.into()),
            None => jar.remove(name),
        };
        Ok(())
    }

    /// One request, no redirect followed; cookies sent and kept.
    pub async fn send(
        &mut self,
        method: Method,
        url: &str,
        form: Option<&[(&str, &str)]>,
    ) -> anyhow::Result<(Page, Option<String>)> {
        let parsed = reqwest::Url::parse(url)?;
        let key = origin(&parsed);
        let mut req = self.http.request(method, parsed.clone());
        if let Some(jar) = self.jars.get(&key).filter(|j| !j.is_empty()) {
            let line: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header(COOKIE, line.join("; "));
        }
        if let Some(f) = form {
            req = req.form(f);
        }
        let res = req
            .send()
            .await
            .with_context(|| format!("request to {url}"))?;
        let jar = self.jars.entry(key).or_default();
        for v in res.headers().get_all(SET_COOKIE) {
            let text = v.to_str().unwrap_or_default();
            let Some((name, rest)) = text.split(';').next().and_then(|kv| kv.split_once('='))
            else {
                continue;
            };
            let gone = text.to_ascii_lowercase().contains("max-age=0") || rest.is_empty();
            if gone {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), rest.trim().to_owned());
            }
        }
        let location = match res.headers().get(LOCATION).and_then(|l| l.to_str().ok()) {
            Some(l) => Some(parsed.join(l)?.to_string()),
            None => None,
        };
        let status = res.status();
        let body = res.text().await?;
        Ok((
            Page {
                url: parsed,
                status,
                body,
            },
            location,
        ))
    }

    /// GETs `url` and follows redirects (at most 20) until an answer that
    /// is not one, or until the next URL starts with `stop_before` (then
    /// that URL is returned unvisited, as the page's URL, status 0 → 303).
    pub async fn follow(&mut self, url: &str, stop_before: Option<&str>) -> anyhow::Result<Page> {
        let mut next = url.to_owned();
        for _ in 0..20 {
            if let Some(stop) = stop_before
                && next.starts_with(stop)
                && next != url
            {
                return Ok(Page {
                    url: reqwest::Url::parse(&next)?,
                    status: StatusCode::SEE_OTHER,
                    body: String::new(),
                });
            }
            let (page, location) = self.send(Method::GET, &next, None).await?;
            match location {
                Some(l) if page.status.is_redirection() => next = l,
                _ => return Ok(page),
            }
        }
        anyhow::bail!("more than 20 redirects from {url}")
    }

    /// POSTs a form and follows the redirects of the answer as [`Self::follow`].
    pub async fn submit(
        &mut self,
        url: &str,
        form: &[(&str, &str)],
        stop_before: Option<&str>,
    ) -> anyhow::Result<Page> {
        let (page, location) = self.send(Method::POST, url, Some(form)).await?;
        match location {
            Some(l) if page.status.is_redirection() => {
                if let Some(stop) = stop_before
                    && l.starts_with(stop)
                {
                    return Ok(Page {
                        url: reqwest::Url::parse(&l)?,
                        status: StatusCode::SEE_OTHER,
                        body: String::new(),
                    });
                }
                self.follow(&l, stop_before).await
            }
            _ => Ok(page),
        }
    }
}
