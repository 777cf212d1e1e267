//! How people sign in to the dashboard: [`SignInArgs`], flattened into
//! `hookline serve` and `hookline dashboard`, read and checked once by
//! [`SignInArgs::oidc`].
//!
//! | setting | absent | value |
//! | --- | --- | --- |
//! | `HOOKLINE_OIDC_ISSUER` | no "Sign in with SSO" (token login only) | the provider's issuer URL |
//! | `HOOKLINE_OIDC_CLIENT_ID` | (required with an issuer) | the client registered at the provider |
//! | `HOOKLINE_OIDC_CLIENT_SECRET` | a public client (PKCE only) | its secret |
//! | `HOOKLINE_OIDC_REDIRECT_URL` | (required with an issuer) | public URL of `/ui/oidc/callback` |
//! | `HOOKLINE_OIDC_USER_CLAIM` | `preferred_username,email` | claims tried in order for the user |
//! | `HOOKLINE_OIDC_GROUPS_CLAIM` | `groups` | the claim listing the groups |
//! | `HOOKLINE_OIDC_ADMIN_GROUP` | nobody is an admin through SSO | the group whose members are admins |
//! | `HOOKLINE_OIDC_SCOPES` | `openid profile email` | scopes asked for |
//! | `HOOKLINE_LOOPBACK_LOGIN` | loopback needs no login | `true`: loopback signs in too |

use url::Url;

/// A refused sign-in setting: which one and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {reason}")]
pub struct SignInConfigError {
    /// The environment variable (and flag) at fault.
    pub field: &'static str,
    pub reason: String,
}

fn refused(field: &'static str, reason: impl Into<String>) -> SignInConfigError {
    SignInConfigError {
        field,
        reason: reason.into(),
    }
}

/// The defaults of the claims and scopes (the flags' and [`Default`]'s).
const DEFAULT_USER_CLAIMS: &str = "preferred_username,email";
const DEFAULT_GROUPS_CLAIM: &str = "groups";
const DEFAULT_SCOPES: &str = "openid profile email";

/// Dashboard sign-in: OpenID Connect, and whether loopback needs a login.
#[derive(Clone, clap::Args)]
pub struct SignInArgs {
    /// OpenID Connect: the identity provider's issuer URL (Keycloak
    /// https://HOST/realms/REALM, Okta https://ORG.okta.com, Google
    /// https://accounts.google.com). Setting it adds "Sign in with SSO" to
    /// the login page (authorization code with PKCE); the token form stays.
    #[arg(long, env = "HOOKLINE_OIDC_ISSUER", value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// The client id registered at the provider for the dashboard.
    #[arg(long, env = "HOOKLINE_OIDC_CLIENT_ID", value_name = "ID")]
    pub oidc_client_id: Option<String>,
    /// The client's secret (a confidential client); absent: a public client
    /// (PKCE alone). Prefer the environment variable to the flag (the
    /// flag shows in `ps`).
    #[arg(
        long,
        env = "HOOKLINE_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub oidc_client_secret: Option<String>,
    /// The public URL of the dashboard's /ui/oidc/callback, exactly as
    /// registered at the provider (https://hookline.example.com/ui/oidc/callback).
    #[arg(long, env = "HOOKLINE_OIDC_REDIRECT_URL", value_name = "URL")]
    pub oidc_redirect_url: Option<String>,
    /// The claims that give the hookline user (the `hookline.user` the hook
    /// stamps), tried in order, comma-separated.
    #[arg(
        long,
        env = "HOOKLINE_OIDC_USER_CLAIM",
        default_value = DEFAULT_USER_CLAIMS,
        value_name = "CLAIMS"
    )]
    pub oidc_user_claim: String,
    /// The claim listing the user's groups (an array of names, or one name).
    #[arg(
        long,
        env = "HOOKLINE_OIDC_GROUPS_CLAIM",
        default_value = DEFAULT_GROUPS_CLAIM,
        value_name = "CLAIM"
    )]
    pub oidc_groups_claim: String,
    /// Members of this group (as the groups claim names it) sign in as
    /// admins (every session, replay); everyone else as a member (their
    /// own sessions). Absent: nobody is an admin through SSO.
    #[arg(long, env = "HOOKLINE_OIDC_ADMIN_GROUP", value_name = "GROUP")]
    pub oidc_admin_group: Option<String>,
    /// The scopes to ask for, separated by spaces (`openid` is always
    /// asked for); add `groups` where the provider gives the groups claim
    /// only for that scope (Okta).
    #[arg(
        long,
        env = "HOOKLINE_OIDC_SCOPES",
        default_value = DEFAULT_SCOPES,
        value_name = "SCOPES"
    )]
    pub oidc_scopes: String,
    /// Ask loopback requests to sign in too (a shared machine, where any
    /// local user could otherwise open the dashboard as an admin).
    #[arg(long, env = "HOOKLINE_LOOPBACK_LOGIN")]
    pub loopback_login: bool,
}

impl Default for SignInArgs {
    fn default() -> Self {
        SignInArgs {
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_redirect_url: None,
            oidc_user_claim: DEFAULT_USER_CLAIMS.into(),
            oidc_groups_claim: DEFAULT_GROUPS_CLAIM.into(),
            oidc_admin_group: None,
            oidc_scopes: DEFAULT_SCOPES.into(),
            loopback_login: false,
        }
    }
}

impl std::fmt::Debug for SignInArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInArgs")
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_id", &self.oidc_client_id)
            .field(
                "oidc_client_secret",
                &self.oidc_client_secret.as_ref().map(|_| "(set)"),
            )
            .field("oidc_redirect_url", &self.oidc_redirect_url)
            .field("loopback_login", &self.loopback_login)
            .finish_non_exhaustive()
    }
}

/// OpenID Connect settings, checked.
#[derive(Clone)]
pub struct OidcSettings {
    /// As given (the provider's `issuer` must equal it to the character:
    /// no trailing slash added).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// As given (the provider compares it with the registered one).
    pub redirect_url: String,
    /// Tried in order; never empty.
    pub user_claims: Vec<String>,
    pub groups_claim: String,
    pub admin_group: Option<String>,
    /// Without `openid` (always asked for).
    pub scopes: Vec<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// An http(s) URL; plain http only to a loopback host (tests, a provider
/// on the same machine).
fn web_url(field: &'static str, text: &str) -> Result<Url, SignInConfigError> {
    let url =
        Url::parse(text).map_err(|e| refused(field, format!("{text:?} is not a URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(refused(
            field,
            format!("{text:?} must be https (plain http only on localhost)"),
        )),
        other => Err(refused(field, format!("scheme {other:?} is not http(s)"))),
    }
}

impl SignInArgs {
    /// The OpenID Connect settings, `None` when no issuer is set; an error
    /// names the setting and why.
    pub fn oidc(&self) -> Result<Option<OidcSettings>, SignInConfigError> {
        let Some(issuer) = nonempty(&self.oidc_issuer) else {
            if nonempty(&self.oidc_client_id).is_some()
                || nonempty(&self.oidc_redirect_url).is_some()
            {
                return Err(refused(
                    "HOOKLINE_OIDC_ISSUER (--oidc-issuer)",
                    "required when a client id or redirect URL is set",
                ));
            }
            return Ok(None);
        };
        web_url("HOOKLINE_OIDC_ISSUER (--oidc-issuer)", issuer)?;
        let client_id = nonempty(&self.oidc_client_id).ok_or_else(|| {
            refused(
                "HOOKLINE_OIDC_CLIENT_ID (--oidc-client-id)",
                "required with HOOKLINE_OIDC_ISSUER",
            )
        })?;
        const REDIRECT: &str = "HOOKLINE_OIDC_REDIRECT_URL (--oidc-redirect-url)";
        let redirect = nonempty(&self.oidc_redirect_url)
            .ok_or_else(|| refused(REDIRECT, "required with HOOKLINE_OIDC_ISSUER"))?;
        let redirect_url = web_url(REDIRECT, redirect)?;
        if redirect_url.path() != "/ui/oidc/callback" {
            return Err(refused(
                REDIRECT,
                format!(
                    "the path must be /ui/oidc/callback (the dashboard's callback), not {:?}",
                    redirect_url.path()
                ),
            ));
        }
        let user_claims: Vec<String> = self
            .oidc_user_claim
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        if user_claims.is_empty() {
            return Err(refused(
                "HOOKLINE_OIDC_USER_CLAIM (--oidc-user-claim)",
                "names no claim",
            ));
        }
        let groups_claim = self.oidc_groups_claim.trim();
        if groups_claim.is_empty() {
            return Err(refused(
                "HOOKLINE_OIDC_GROUPS_CLAIM (--oidc-groups-claim)",
                "is empty",
            ));
        }
        Ok(Some(OidcSettings {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: nonempty(&self.oidc_client_secret).map(str::to_owned),
            redirect_url: redirect.to_owned(),
            user_claims,
            groups_claim: groups_claim.to_owned(),
            admin_group: nonempty(&self.oidc_admin_group).map(str::to_owned),
            scopes: self
                .oidc_scopes
                .split_whitespace()
                .filter(|s| *s != "openid")
                .map(str::to_owned)
                .collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(issuer: &str, redirect: &str) -> SignInArgs {
        SignInArgs {
            oidc_issuer: Some(issuer.into()),
            oidc_client_id: Some("hookline".into()),
            oidc_redirect_url: Some(redirect.into()),
            ..SignInArgs::default()
        }
    }

    #[test]
    fn bad_settings_name_the_variable_and_why() {
        let e = args(
            "http://idp.example.com",
            "https://h.example.com/ui/oidc/callback",
        )
        .oidc();
        assert!(
            matches!(e, Err(SignInConfigError { field, .. }) if field.starts_with("HOOKLINE_OIDC_ISSUER"))
        );
        let e = args("https://idp.example.com", "https://h.example.com/callback").oidc();
        assert!(
            matches!(e, Err(SignInConfigError { field, .. }) if field.starts_with("HOOKLINE_OIDC_REDIRECT_URL"))
        );
        let mut a = args(
            "https://idp.example.com",
            "https://h.example.com/ui/oidc/callback",
        );
        a.oidc_client_id = None;
        assert!(
            matches!(a.oidc(), Err(SignInConfigError { field, .. }) if field.starts_with("HOOKLINE_OIDC_CLIENT_ID"))
        );
        let ok = args("http://127.0.0.1:9/", "http://127.0.0.1:8/ui/oidc/callback").oidc();
        let ok = ok.ok().flatten().map(|s| (s.user_claims, s.scopes));
        assert_eq!(
            ok,
            Some((
                vec!["preferred_username".to_owned(), "email".to_owned()],
                vec!["profile".to_owned(), "email".to_owned()]
            ))
        );
        assert!(matches!(SignInArgs::default().oidc(), Ok(None)));
    }
}
