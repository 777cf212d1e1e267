// The screenshot of docs/export.md (docs/screenshots/export.png): an HTML
// file `hookline sessions export --format html -o FILE` wrote, opened from
// disk in headless Chromium with the network refused (it must need none),
// its first tool call unfolded. Environment: FILE (the HTML), OUT (the
// PNG), CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const asked = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:")) return route.continue();
    asked.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(process.env.FILE).href);
  await page.locator("details.tool").first().evaluate((d) => { d.open = true; });
  assert.deepEqual(asked, [], "the exported page asked the network");
  const tools = await page.locator("details.tool").count();
  await page.screenshot({ path: process.env.OUT, fullPage: false });
  console.log(`export-shot: ${process.env.OUT} (${tools} tool calls, no request out)`);
} finally {
  await browser.close();
}
