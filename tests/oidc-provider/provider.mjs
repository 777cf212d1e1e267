// A real OpenID Connect provider for the dashboard's sign-in tests: the
// certified `oidc-provider` (tests/oidc-provider/install), with a fixed
// account list and a one-form login in place of its consent screens.
//
//   PORT=18440 REDIRECT_URIS=http://127.0.0.1:18431/ui/oidc/callback node provider.mjs
//
// Environment:
//   PORT           port to listen on (127.0.0.1)
//   ISSUER         issuer URL (default http://localhost:PORT)
//   REDIRECT_URIS  the registered redirect URIs, comma-separated
// Prints "oidc-provider: listening on ISSUER" once it accepts requests.
//
// Clients: `hookline` (confidential, secret `hookline-test-secret`,
// client_secret_basic) and `hookline-public` (no secret); both must use
// PKCE (S256). Scopes give the claims: profile → preferred_username, name;
// email → email; groups → groups. The claims are in the userinfo answer
// (the provider's conforming default); the ID token carries `sub`.
import Provider from "oidc-provider";

const port = Number(process.env.PORT || 0);
if (!port) {
  console.error("oidc-provider: set PORT");
  process.exit(2);
}
const issuer = process.env.ISSUER || `http://localhost:${port}`;
const redirectUris = (process.env.REDIRECT_URIS || "").split(",").filter(Boolean);
if (!redirectUris.length) {
  console.error("oidc-provider: set REDIRECT_URIS");
  process.exit(2);
}

// The accounts: login → password and claims. carol is in the admin group.
const accounts = {
  alice: { password: "alice-pw", email: "alice@example.test", name: "Alice", groups: ["engineering"] },
  bob: { password: "bob-pw", email: "bob@example.test", name: "Bob", groups: ["engineering"] },
  carol: { password: "carol-pw", email: "carol@example.test", name: "Carol", groups: ["engineering", "hookline-admins"] },
  // No preferred_username: hookline falls back to the email claim.
  dave: { password: "dave-pw", email: "dave@example.test", name: "Dave", groups: [], anonymous: true },
};

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "hookline",
      client_secret: "hookline-test-secret",
      redirect_uris: redirectUris,
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
    {
      client_id: "hookline-public",
      redirect_uris: redirectUris,
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "none",
    },
  ],
  pkce: { required: () => true },
  scopes: ["openid", "profile", "email", "groups"],
  claims: {
    openid: ["sub"],
    profile: ["preferred_username", "name"],
    email: ["email", "email_verified"],
    groups: ["groups"],
  },
  cookies: { keys: ["hookline-oidc-provider-test-cookie-key"] },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    const a = accounts[id];
    if (!a) return undefined;
    return {
      accountId: id,
      async claims() {
        const c = { sub: id, name: a.name, email: a.email, email_verified: true, groups: a.groups };
        if (!a.anonymous) c.preferred_username = id;
        return c;
      },
    };
  },
  // A first-party client: no consent screen, the requested scopes granted.
  async loadExistingGrant(ctx) {
    const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (id) return ctx.oidc.provider.Grant.find(id);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope || "openid");
    await grant.save();
    return grant;
  },
});

const page = (uid, error) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · test provider</title></head>
<body><h1>Test identity provider</h1>${error ? `<p id="error">${escape(error)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Login <input name="login" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>`;

async function formBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

// The interaction: GET shows the form, POST …/login checks the account.
provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!m) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === "GET" && !m[2]) {
    ctx.type = "html";
    ctx.body = page(details.uid);
    return undefined;
  }
  if (ctx.method !== "POST" || !m[2]) return next();
  const form = await formBody(ctx.req);
  const login = form.get("login") || "";
  const account = Object.hasOwn(accounts, login) ? accounts[login] : undefined;
  if (!account || account.password !== form.get("password")) {
    ctx.status = 401;
    ctx.type = "html";
    ctx.body = page(details.uid, "Wrong login or password.");
    return undefined;
  }
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  ctx.respond = false;
  return undefined;
});

const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider: listening on ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
