// Renders a job summary (a GITHUB_STEP_SUMMARY file) the way GitHub shows it: GitHub Flavored
// Markdown with alerts (marked, marked-alert), GitHub's markdown stylesheet (github-markdown-css),
// Mermaid charts drawn by the `mermaid` package, in Debian's headless Chromium, 1,280 px wide.
//
//   node .ci/render-summary.mjs SUMMARY.md OUT-PREFIX [--max-height PX] [--open]
//
// writes OUT-PREFIX-light.png and OUT-PREFIX-dark.png (the page as it first shows: folds closed),
// at most --max-height px tall (default 6000), and with --open OUT-PREFIX-open-light.png (every
// fold open, to see the charts; they are drawn, and checked, in every case). It exits non-zero when the
// Markdown, a Mermaid chart or the page fails (a chart with a syntax error fails the render).

import { readFile } from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Marked } from "marked";
import markedAlert from "marked-alert";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const WIDTH = 1280;

function usage(message) {
  console.error(`render-summary: ${message}\nusage: node .ci/render-summary.mjs SUMMARY.md OUT-PREFIX [--max-height PX] [--open]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let maxHeight = 6000;
let withOpen = false;
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--max-height") {
    maxHeight = Number(args[++i]);
    if (!Number.isInteger(maxHeight) || maxHeight < 100) usage("--max-height takes a whole number of pixels");
  } else if (args[i] === "--open") {
    withOpen = true;
  } else {
    positional.push(args[i]);
  }
}
if (positional.length !== 2) usage("give a summary file and an output prefix");
const [summaryPath, outPrefix] = positional;

// GitHub renders a ```mermaid block as a chart; everything else as GFM (raw HTML such as
// <details> kept, as GitHub keeps the safe part of it).
const marked = new Marked({ gfm: true, breaks: false });
marked.use(markedAlert());
marked.use({
  renderer: {
    code({ text, lang }) {
      if (lang === "mermaid") {
        return `<pre class="mermaid-source" hidden>${escapeHtml(text)}</pre><div class="mermaid-chart"></div>\n`;
      }
      return false;
    },
  },
});

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function page(browser, html, theme, open) {
  const css = require.resolve(`github-markdown-css/github-markdown-${theme}.css`);
  const tab = await browser.newPage();
  await tab.emulateMedia({ colorScheme: theme });
  const errors = [];
  tab.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  tab.on("console", (message) => {
    if (message.type() === "error") errors.push(`console error: ${message.text()}`);
  });
  const background = theme === "dark" ? "#0d1117" : "#ffffff";
  await tab.setContent(
    `<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:0;background:${background}">
<article class="markdown-body" style="box-sizing:border-box;width:${WIDTH}px;padding:24px 32px">${html}</article>
</body></html>`,
  );
  await tab.addStyleTag({ path: css });
  await tab.addScriptTag({ path: require.resolve("mermaid/dist/mermaid.min.js") });
  // Charts are drawn with every fold open (Mermaid measures text, which a closed fold hides),
  // then the folds are closed again unless the open view is asked for.
  const failures = await tab.evaluate(
    async ({ theme, open }) => {
      const folds = [...document.querySelectorAll("details")];
      const wasOpen = folds.map((d) => d.open);
      folds.forEach((d) => (d.open = true));
      window.mermaid.initialize({ startOnLoad: false, theme: theme === "dark" ? "dark" : "default" });
      const failures = [];
      const sources = [...document.querySelectorAll("pre.mermaid-source")];
      for (const [i, source] of sources.entries()) {
        try {
          const { svg } = await window.mermaid.render(`chart-${i}`, source.textContent);
          source.nextElementSibling.innerHTML = svg;
        } catch (error) {
          failures.push(`chart ${i + 1}: ${error.message ?? error}`);
        }
      }
      if (!open) folds.forEach((d, i) => (d.open = wasOpen[i]));
      return failures;
    },
    { theme, open },
  );
  errors.push(...failures);
  const height = await tab.evaluate(() => Math.ceil(document.querySelector("article").getBoundingClientRect().height));
  return { tab, errors, height };
}

async function main() {
  const markdown = await readFile(summaryPath, "utf8");
  const html = marked.parse(markdown);
  const profile = mkdtempSync(join(tmpdir(), "render-summary-"));
  // A fresh profile (--user-data-dir) per render, removed afterwards.
  const browser = await chromium.launchPersistentContext(profile, {
    viewport: { width: WIDTH, height: 800 },
    deviceScaleFactor: 1,
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  let failed = false;
  try {
    const views = [
      ["light", false, "light"],
      ["dark", false, "dark"],
    ];
    if (withOpen) views.push(["light", true, "open-light"]);
    for (const [theme, open, suffix] of views) {
      const { tab, errors, height } = await page(browser, html, theme, open);
      const out = `${outPrefix}-${suffix}.png`;
      await tab.screenshot({
        path: out,
        clip: { x: 0, y: 0, width: WIDTH, height: Math.min(height, maxHeight) },
        fullPage: true,
      });
      console.log(`${out}: ${WIDTH} x ${Math.min(height, maxHeight)} px (page ${height} px)`);
      if (errors.length) {
        failed = true;
        console.error(`${summaryPath} (${suffix}):\n  ${errors.join("\n  ")}`);
      }
      await tab.close();
    }
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
  if (failed) process.exit(1);
}

main().catch((error) => {
  console.error(`render-summary: ${error.stack ?? error}`);
  process.exit(1);
});
