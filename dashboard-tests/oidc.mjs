// Browser test of the dashboard's OpenID Connect sign-in: headless Chromium
// (Debian's /usr/bin/chromium) via playwright-core against a `hookline
// serve` that scripts/ci/dashboard started with --loopback-login (so this
// loopback browser must sign in) and HOOKLINE_OIDC_* pointing at the real
// provider of tests/oidc-provider (another site: localhost, the dashboard
// is 127.0.0.1). Seeds a session of alice and one of bob through the
// ingest, signs in at the provider as alice, sees alice's sessions, signs
// out, and checks that the old cookie is refused.
//
// Environment: BASE (http://127.0.0.1:PORT), TOKEN (an ingest token),
// SHOTS (screenshot dir), FIXTURES (tests/fixtures/events).
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

const { BASE, TOKEN, SHOTS, FIXTURES } = process.env;
const checks = [];
const check = (name) => { checks.push(name); console.log(`  ok  ${name}`); };

// One session per user, posted as the hook would (hookline.user stamped).
const sessions = { alice: "0a11ce00-0000-4000-8000-00000000a11c", bob: "0b0b0000-0000-4000-8000-000000000b0b" };
for (const [user, id] of Object.entries(sessions)) {
  for (const [i, name] of ["SessionStart", "UserPromptSubmit"].entries()) {
    const event = JSON.parse(readFileSync(`${FIXTURES}/${name}.json`, "utf8").replaceAll("00893aaf-19fa-41d2-8238-13269b9b3ca0", id));
    if (name === "UserPromptSubmit") event.prompt = `a prompt of ${user}`;
    event.hookline = {
      v: 1, request_id: `oidc-e2e-${user}-${i}`, captured_at: new Date().toISOString(),
      client: { name: "hookline-hook", version: "e2e" }, host: "devbox", user,
    };
    const res = await fetch(`${BASE}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(event),
    });
    assert.equal(res.status, 202, `POST ${name} of ${user}: ${await res.text()}`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
let failed = false;
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));

  // Both sessions are processed before anyone looks (the worker is async).
  await page.goto(`${BASE}/ui/sessions`);
  await page.waitForURL(/\/ui\/login/);
  assert.ok(await page.locator("a#sso").isVisible(), "a Sign in with SSO button");
  assert.ok(await page.locator('input[name="token"]').isVisible(), "the token form stays");
  check("signed out: /ui/sessions leads to the login page, with SSO and the token form");
  await page.screenshot({ path: `${SHOTS}/login-sso.png` });

  await page.click("a#sso");
  await page.waitForURL(/localhost:\d+\/interaction\//);
  await page.fill('input[name="login"]', "alice");
  await page.fill('input[name="password"]', "alice-pw");
  await page.click('button[type="submit"]');
  await page.waitForURL(/127\.0\.0\.1:\d+\/ui\/sessions/);
  assert.match(await page.textContent("span.who"), /alice/);
  check("signed in at the provider as alice: back on the sessions page, the header names alice");

  let listed = 0;
  for (let i = 0; i < 40 && listed === 0; i++) {
    await page.goto(`${BASE}/ui/sessions`);
    listed = await page.locator(`a[href="/ui/sessions/${sessions.alice}"]`).count();
    if (!listed) await page.waitForTimeout(250);
  }
  assert.equal(listed, 1, "alice's session is listed");
  const bobs = await page.locator(`a[href="/ui/sessions/${sessions.bob}"]`).count();
  assert.equal(bobs, 0, "bob's session is not listed for alice");
  check("alice sees her session and not bob's");

  const [cookie] = (await context.cookies()).filter((c) => c.name === "hookline_ui");
  assert.ok(cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === "Strict", "the session cookie's flags");
  await page.click('form[action="/ui/logout"] button');
  await page.waitForURL(/\/ui\/login\?signed_out=1/);
  assert.match(await page.textContent("#signed-out"), /signed out/);
  assert.match(await page.getAttribute("a#provider-logout", "href"), /localhost:\d+\/session\/end\?client_id=/);
  check("sign out: back at the login page, with a link to sign out at the provider");

  await context.addCookies([cookie]);
  await page.goto(`${BASE}/ui/sessions`);
  await page.waitForURL(/\/ui\/login/);
  check("the old session cookie is refused after the sign-out");
  assert.deepEqual(errors, [], "no script error");
} catch (e) {
  failed = true;
  console.error(e);
  if (page) console.error(`at ${page.url()}:\n${(await page.textContent("body").catch(() => "")).slice(0, 2000)}`);
} finally {
  await browser.close();
}
console.log(`${checks.length} sign-in browser check(s) passed${failed ? "; FAILED" : ""}`);
process.exit(failed ? 1 : 0);
