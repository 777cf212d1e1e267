// End-to-end browser test of the hookline dashboard: headless Chromium
// (Debian's /usr/bin/chromium) driven by playwright-core against a running
// `hookline serve` that scripts/ci/dashboard started and fed with the
// fixture events. Loads every page, checks what a user would see, takes the
// screenshots of docs/screenshots/, replays from the DLQ (one message, then
// a filter) and checks the events end SUCCESS.
//
// Environment: BASE (http://127.0.0.1:PORT), FIX_CMD (a shell command that
// removes the simulated outage), SHOTS (screenshot dir), SESSION (the
// fixture session id), POISON_SESSION.
import { chromium } from "playwright-core";
import { execSync } from "node:child_process";
import assert from "node:assert/strict";

const BASE = process.env.BASE;
const SHOTS = process.env.SHOTS;
const SESSION = process.env.SESSION;
const POISON = process.env.POISON_SESSION;
const checks = [];
const check = (name) => { checks.push(name); console.log(`  ok  ${name}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
let failed = false;
let page;
try {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("dialog", (d) => { failed = true; console.error(`a dialog opened: ${d.message()} (event content ran as script)`); d.dismiss(); });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const shot = (name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });

  // Sessions: the list, search, one conversation.
  await page.goto(`${BASE}/ui/sessions`);
  await page.waitForSelector(`a[href="/ui/sessions/${SESSION}"]`);
  check("sessions list shows the fixture session");
  await page.fill('input[name="tool"]', "write");
  await page.click('form.search button[type="submit"]');
  await page.waitForURL(/tool=write/);
  assert.equal(await page.locator(`a[href="/ui/sessions/${SESSION}"]`).count(), 1);
  assert.equal(await page.locator(`a[href="/ui/sessions/${POISON}"]`).count(), 0);
  check("search by tool name keeps only the sessions that used it");
  await page.goto(`${BASE}/ui/sessions`);
  await shot("sessions");
  await page.click(`a[href="/ui/sessions/${SESSION}"]`);
  await page.waitForSelector("ol.conversation");
  const prompt = page.locator("li.msg.user .text").first();
  assert.match(await prompt.textContent(), /<script>alert\("xss"\)<\/script>/);
  check("the prompt shows literally (escaped), no script ran");
  assert.ok(await page.locator("li.msg.assistant").count() >= 1, "an assistant reply");
  const tool = page.locator("li.tool details").first();
  assert.equal(await tool.evaluate((d) => d.open), false);
  await tool.locator("summary").click();
  assert.equal(await tool.evaluate((d) => d.open), true);
  assert.ok(await tool.locator("pre").first().isVisible(), "tool input visible once expanded");
  check("conversation: prompt, reply, a tool call that expands to its input and result");
  await shot("session");

  // Usage: the chart, the totals, the dearest sessions linking to theirs.
  await page.goto(`${BASE}/ui/usage`);
  await page.waitForSelector("svg#usage-chart");
  assert.match(await page.locator("#usage-total").textContent(), /\$\d+\.\d\d/);
  const top = page.locator("#usage-top a");
  if (await top.count()) {
    assert.match(await top.first().getAttribute("href"), /^\/ui\/sessions\//);
  }
  check("usage: cost per day chart, total, top sessions by cost");
  // (docs/screenshots/usage.png is of the spotter transcripts, docs/usage.md.)

  // Failures: INVALID events and the DLQ.
  await page.goto(`${BASE}/ui/failures`);
  await page.waitForSelector("#dlq tbody tr");
  assert.equal(await page.locator("#dlq tbody tr").count(), 2);
  assert.match(await page.locator("#dlq").textContent(), /DB_TRANSIENT/);
  assert.ok(await page.locator("#failed tbody tr", { hasText: "INVALID" }).count() >= 1, "an INVALID event listed");
  check("failures: the INVALID event and the 2 DLQ messages with their error");
  await shot("failures");

  // The fix, then replay one message: dry run and count, confirm, result.
  execSync(process.env.FIX_CMD, { stdio: "inherit" });
  const firstId = (await page.locator("#dlq tbody tr td a").first().textContent()).trim();
  await page.locator("#dlq tbody tr").first().locator("button.replay-one").click();
  await page.waitForSelector("#dry-count");
  assert.equal(await page.textContent("#dry-count"), "1");
  check("per-message replay shows a dry run of 1 message");
  await shot("replay-confirm");
  await page.click("#confirm");
  await page.waitForSelector("#moved");
  assert.equal(await page.textContent("#moved"), "1");
  check("confirming replays 1 message");
  let status = "";
  for (let i = 0; i < 60 && status !== "SUCCESS"; i++) {
    await page.goto(`${BASE}/ui/trace/${encodeURIComponent(firstId)}`);
    status = (await page.textContent("#trace-status")).trim();
    if (status !== "SUCCESS") await page.waitForTimeout(500);
  }
  assert.equal(status, "SUCCESS", `request ${firstId} after the replay`);
  check("the replayed event ends SUCCESS (trace page)");
  await shot("trace");

  // Filtered replay of what is left.
  await page.goto(`${BASE}/ui/failures`);
  await page.fill('#replay-filter input[name="session"]', POISON);
  await page.click('#replay-filter button[type="submit"]');
  await page.waitForSelector("#dry-count");
  assert.equal(await page.textContent("#dry-count"), "1");
  await page.click("#confirm");
  await page.waitForSelector("#moved");
  assert.equal(await page.textContent("#moved"), "1");
  await page.goto(`${BASE}/ui/failures`);
  assert.match(await page.textContent("#dlq-count"), /^0 message/);
  check("filtered replay (by session): dry run 1, replayed 1, DLQ empty");

  // Health: cards and charts filled by the live poll.
  await page.goto(`${BASE}/ui/health`);
  await page.waitForSelector("#per-minute svg rect");
  await page.waitForFunction(() => document.querySelectorAll("#depths svg polyline").length === 2);
  assert.ok(Number(await page.textContent("#total")) > 0);
  assert.match(await page.textContent("#processing"), /ms/);
  await page.waitForTimeout(5500); // a second live sample
  assert.match(await page.textContent("#updated"), /^updated \d\d:\d\d:\d\d UTC$/);
  check("health: totals, percentiles, events/min chart and depth chart, updating");
  await shot("health");

  // Logs: level filter, request id filter.
  await page.goto(`${BASE}/ui/logs?level=error`);
  await page.waitForSelector("table.logs tbody tr");
  const levels = await page.locator("table.logs tbody tr td:nth-child(2)").allTextContents();
  assert.ok(levels.length > 0 && levels.every((l) => l === "ERROR"), `levels ${levels}`);
  check("logs: the level filter keeps only ERROR lines");
  await page.goto(`${BASE}/ui/logs?request_id=${encodeURIComponent(firstId)}`);
  await page.waitForSelector("table.logs tbody tr");
  const reqs = await page.locator("table.logs tbody tr td:nth-child(5)").allTextContents();
  assert.ok(reqs.length > 0 && reqs.every((r) => r.trim() === firstId), `request ids ${reqs}`);
  check("logs: the request-id filter keeps only that request's lines");
  await page.goto(`${BASE}/ui/logs`);
  await shot("logs");

  await page.goto(`${BASE}/ui/login`);
  await shot("login");
  assert.deepEqual(errors, [], "no script error on any page");
  check("no JavaScript error on any page");
} catch (e) {
  failed = true;
  console.error(e);
  if (page) {
    console.error(`at ${page.url()}:\n${(await page.textContent("body").catch(() => "")).slice(0, 2000)}`);
  }
} finally {
  await browser.close();
}
console.log(`${checks.length} browser check(s) passed${failed ? "; FAILED" : ""}`);
process.exit(failed ? 1 : 0);
