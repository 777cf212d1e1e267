// The screenshot of docs/usage.md (docs/screenshots/usage.png): the Usage
// page of a running `hookline dashboard` on the spotter transcripts (the
// data dir `HOOKLINE_USAGE_KEEP=1 cargo test -p hookline --test it -- usage::`
// keeps), in headless Chromium. Environment: BASE (http://127.0.0.1:PORT),
// OUT (the PNG), CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${process.env.BASE}/ui/usage`);
  await page.waitForSelector("svg#usage-chart");
  // The legend's swatches take the series' colours (not the text colour).
  const fills = await page.locator("p.legend svg.swatch rect").evaluateAll(
    (rs) => rs.map((r) => getComputedStyle(r).fill));
  assert.ok(fills.length > 0 && fills.every((f) => f !== "rgb(0, 0, 0)"), `legend fills ${fills}`);
  await page.screenshot({ path: process.env.OUT, fullPage: false });
  console.log(`usage-shot: ${process.env.OUT} (legend ${fills.join(", ")})`);
} finally {
  await browser.close();
}
