// Renders every page of a generated site in headless Chromium, fails on any request that
// leaves the site (anything but file:) and on any axe-core violation (WCAG 2.1 A/AA and
// best practices), and takes screenshots of the pages named in SHOTS.
// Usage: node check.js NODE_MODULES SITE_DIR CHROMIUM SHOT_DIR [PAGE...]
const fs = require('fs');
const path = require('path');

const [modules, site, chromium, shotDir, ...shots] = process.argv.slice(2);
const puppeteer = require(path.join(modules, 'puppeteer-core'));
const axeSource = fs.readFileSync(path.join(modules, 'axe-core', 'axe.min.js'), 'utf8');

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

(async () => {
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const pages = walk(site).filter((f) => f.endsWith('.html')).sort();
  let failed = false;
  for (const file of pages) {
    const rel = path.relative(site, file);
    const page = await browser.newPage();
    const outside = [];
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url().startsWith('file://')) {
        r.continue();
      } else {
        outside.push(r.url());
        r.abort();
      }
    });
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto('file://' + file, { waitUntil: 'load' });
    await page.evaluate(axeSource);
    const res = await page.evaluate(() => axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }));
    for (const v of res.violations) {
      failed = true;
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
      console.log(`${rel}: ${v.id} (${v.impact}): ${v.help} [${v.nodes.length}: ${where}]`);
    }
    if (outside.length) {
      failed = true;
      console.log(`${rel}: requests leaving the site: ${outside.join(', ')}`);
    }
    if (shots.includes(rel)) {
      await page.screenshot({ path: path.join(shotDir, rel.replace(/[\/]/g, '-').replace(/\.html$/, '.png')), fullPage: true });
    }
    await page.close();
  }
  console.log(`${pages.length} pages checked with axe-core ${require(path.join(modules, 'axe-core', 'package.json')).version}`);
  await browser.close();
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
