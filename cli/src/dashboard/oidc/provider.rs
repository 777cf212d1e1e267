//! The identity provider, as the `openidconnect` crate sees it: discovery
//! (metadata and JWKS, cached and fetched again after [`METADATA_TTL`] or
//! when a token names a key it does not hold), the authorization URL with
//! PKCE (S256), the code exchange, the ID token's verification (signature
//! by the JWKS, issuer, audience, nonce, expiry) and its claims, completed
//! from the userinfo endpoint when the ID token lacks one.

use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IdToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout,
    RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::OidcError;
use crate::config::OidcSettings;

/// How long discovered metadata and keys are used before asking again.
pub const METADATA_TTL: Duration = Duration::from_secs(15 * 60);

/// Every claim of a token or userinfo answer, by name.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct AllClaims {
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl AdditionalClaims for AllClaims {}

type TypedIdToken =
    IdToken<AllClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// What the authorization request needs to be finished.
pub struct Started {
    pub url: url::Url,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// The provider, discovered lazily (a provider down at start does not stop
/// the dashboard; the sign-in page says so).
pub struct Provider {
    pub settings: OidcSettings,
    http: reqwest::Client,
    cached: Mutex<Option<(Instant, ProviderMetadataWithLogout)>>,
}

impl Provider {
    pub fn new(settings: OidcSettings) -> Result<Self, OidcError> {
        // No redirects: a provider's endpoint answering with one is an
        // error, not a hop to wherever it points (SSRF).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| OidcError::Unavailable(Box::new(e)))?;
        Ok(Provider {
            settings,
            http,
            cached: Mutex::new(None),
        })
    }

    /// The metadata and keys, discovered when absent, older than
    /// [`METADATA_TTL`], or `refresh`.
    async fn metadata(&self, refresh: bool) -> Result<ProviderMetadataWithLogout, OidcError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, meta)) = cached.as_ref()
            && !refresh
            && at.elapsed() < METADATA_TTL
        {
            return Ok(meta.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| OidcError::Unavailable(Box::new(e)))?;
        let meta = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Unavailable(Box::new(e)))?;
        *cached = Some((Instant::now(), meta.clone()));
        Ok(meta)
    }

    fn client(&self, meta: ProviderMetadataWithLogout) -> Result<Client, OidcError> {
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone())
            .map_err(|e| OidcError::Unavailable(Box::new(e)))?;
        Ok(CoreClient::from_provider_metadata(
            meta,
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }
}

/// The client `from_provider_metadata` makes: the authorization endpoint
/// known, the token and userinfo endpoints as the metadata has them.
type Client = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

impl Provider {
    /// The provider's end_session_endpoint, when it has one.
    pub async fn end_session(&self) -> Option<url::Url> {
        let meta = self.metadata(false).await.ok()?;
        let mut url = meta
            .additional_metadata()
            .end_session_endpoint
            .as_ref()?
            .url()
            .clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id);
        Some(url)
    }

    /// The authorization request: a new state, nonce and PKCE verifier.
    pub async fn start(&self) -> Result<Started, OidcError> {
        let client = self.client(self.metadata(false).await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in &self.settings.scopes {
            req = req.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = req.set_pkce_challenge(challenge).url();
        Ok(Started {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` (with the PKCE verifier), verifies the ID token
    /// against `nonce`, and returns its claims, completed from userinfo
    /// for the names in `wanted` it lacks.
    pub async fn finish(
        &self,
        code: String,
        verifier: String,
        nonce: &str,
        wanted: &[&str],
    ) -> Result<Map<String, Value>, OidcError> {
        let client = self.client(self.metadata(false).await?)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Exchange(Box::new(e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Exchange(Box::new(e)))?;
        let raw = token.id_token().ok_or(OidcError::NoIdToken)?.to_string();
        let id_token: TypedIdToken = raw
            .parse()
            .map_err(|e: serde_json::Error| OidcError::IdToken(Box::new(e)))?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(c) => c.clone(),
            // A key the cached JWKS does not hold: the provider rotated
            // its keys; discover again once.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self.client(self.metadata(true).await?)?;
                id_token
                    .claims(&fresh.id_token_verifier(), &nonce)
                    .map_err(|e| OidcError::IdToken(Box::new(e)))?
                    .clone()
            }
            Err(e) => return Err(OidcError::IdToken(Box::new(e))),
        };
        let mut all = match serde_json::to_value(&claims) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if wanted.iter().all(|w| all.contains_key(*w)) {
            return Ok(all);
        }
        let Ok(req) =
            client.user_info(token.access_token().clone(), Some(claims.subject().clone()))
        else {
            return Ok(all); // no userinfo endpoint: the ID token is all there is
        };
        let info: UserInfoClaims<AllClaims, CoreGenderClaim> = req
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::UserInfo(Box::new(e)))?;
        if let Ok(Value::Object(m)) = serde_json::to_value(&info) {
            for (k, v) in m {
                all.entry(k).or_insert(v);
            }
        }
        Ok(all)
    }
}
