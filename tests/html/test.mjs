// test.mjs - the HTML report (pyrefcheck check --format html -o DIR) in a real
// headless browser: Debian's chromium driven by playwright-core.
//
//   node test.mjs --pyrefcheck BIN --source-dir ROOT --screenshots DIR
//
// Runs pyrefcheck on fixtures/demo and fixtures/leak twice (JSON, then HTML
// into a temporary folder), opens index.html from file://, and checks: one
// row per JSON finding in the same order, the rule and file filters, a
// finding page's step replay with the keyboard (highlighted step, its line,
// the reference count shown), another path replayed, and that no request
// left file://.  Screenshots of the index and of a finding mid-path go to
// the --screenshots folder.  Exits 0 when every check passed, 1 otherwise.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const o = {};
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!['pyrefcheck', 'source-dir', 'screenshots'].includes(k) || i + 1 >= argv.length)
      throw new Error(`usage: node test.mjs --pyrefcheck BIN --source-dir ROOT --screenshots DIR (bad: ${argv[i]})`);
    o[k] = argv[i + 1];
  }
  for (const k of ['pyrefcheck', 'source-dir', 'screenshots'])
    if (!o[k]) throw new Error(`missing --${k}`);
  return o;
}

let failures = 0;
let checks = 0;
function check(cond, what) {
  checks++;
  if (cond) {
    console.log(`ok   ${what}`);
  } else {
    failures++;
    console.log(`FAIL ${what}`);
  }
}
function eq(got, want, what) {
  check(JSON.stringify(got) === JSON.stringify(want),
        `${what}: ${JSON.stringify(got)}${JSON.stringify(got) === JSON.stringify(want) ? '' : ` (want ${JSON.stringify(want)})`}`);
}

const args = parseArgs(process.argv);
const root = path.resolve(args['source-dir']);
const bin = path.resolve(args.pyrefcheck);
const shots = path.resolve(args.screenshots);
fs.mkdirSync(shots, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prc-html-'));

// Relative paths, as a user would type them: the report shows them as given.
const inputs = ['fixtures/demo', 'fixtures/leak'];
function run(extra) {
  const r = spawnSync(bin, ['check', '--no-db', '-j', '2', ...extra, ...inputs], { cwd: root, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

const js = run(['--format', 'json']);
eq(js.status, 1, 'json run exits 1 (findings)');
const report = JSON.parse(js.stdout);
const findings = report.findings;
check(findings.length >= 5, `the fixtures give findings to show (${findings.length})`);

const outDir = path.join(tmp, 'report', 'nested');
const ht = run(['--format', 'html', '-o', outDir]);
eq(ht.status, 1, 'html run exits 1 (findings)');
check(/report in .*index\.html/.test(ht.stdout), `html run says where the report is: ${ht.stdout.trim()}`);
check(fs.existsSync(path.join(outDir, 'index.html')), 'index.html written into a created folder');
const pages = fs.readdirSync(outDir).filter((n) => /^finding-\d+\.html$/.test(n));
eq(pages.length, findings.length, 'one finding page per finding');

// Self-contained: no URL to anywhere in any page.
let external = [];
for (const n of fs.readdirSync(outDir)) {
  const text = fs.readFileSync(path.join(outDir, n), 'utf8');
  for (const m of text.matchAll(/(?:src|href)\s*=\s*"([^"]*)"/g))
    if (/^[a-z][a-z0-9+.-]*:/i.test(m[1]) || m[1].startsWith('//')) external.push(`${n}: ${m[1]}`);
  if (/@import|url\(/.test(text)) external.push(`${n}: CSS import or url()`);
}
eq(external, [], 'no absolute or external link, script or style in the pages');

// An output folder that cannot be created: one error line, exit 2.
const blocker = path.join(tmp, 'a-file');
fs.writeFileSync(blocker, 'x');
const bad = run(['--format', 'html', '-o', path.join(blocker, 'sub')]);
eq(bad.status, 2, 'html into a path under a regular file exits 2');
const badLines = bad.stderr.trim().split('\n');
check(badLines.length === 1 && /^pyrefcheck: error: cannot create directory .*a-file\/sub/.test(badLines[0]),
      `one clear error line: ${bad.stderr.trim()}`);
const noDir = spawnSync(bin, ['check', '--no-db', '--format', 'html', 'fixtures/demo'], { cwd: root, encoding: 'utf8' });
check(noDir.status === 2 && /-o DIR/.test(noDir.stderr), `html without -o is a usage error: ${noDir.stderr.trim().split('\n')[0]}`);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--no-first-run'],
});
const requests = [];
const pageErrors = [];
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });

  const indexUrl = pathToFileURL(path.join(outDir, 'index.html')).href;
  await page.goto(indexUrl);
  const rows = page.locator('tr.finding');
  eq(await rows.count(), findings.length, 'index rows = findings in the JSON of the same inputs');
  const rowText = await rows.evaluateAll((rs) => rs.map((r) => [r.dataset.rule, r.querySelector('td.loc .at').textContent,
                                      r.querySelector('td.loc .fn').textContent, r.querySelector('td.msg a').textContent]));
  eq(rowText, findings.map((f) => [f.rule, `${f.file}:${f.line}:${f.column}`, `${f.function}()`, f.message]),
     'rows in the JSON order with rule, file:line:col, function and message');
  const summary = await page.locator('#summary').textContent();
  check(summary.includes(`${findings.length} findings`) && summary.includes(`${report.stats.functions} functions`),
        `summary line: ${summary}`);

  const visible = async () => page.locator('tr.finding:visible').evaluateAll(
    (rs) => rs.map((r) => [r.dataset.rule, r.dataset.file]));

  // Filter by rule.
  const rules = [...new Set(findings.map((f) => f.rule))];
  check(rules.length >= 2, `several rules to filter (${rules.join(', ')})`);
  const rule = rules.find((r) => r !== 'leak') || rules[0];
  await page.selectOption('#f-rule', rule);
  const byRule = await visible();
  eq(byRule.length, findings.filter((f) => f.rule === rule).length, `rule filter "${rule}" shows its findings`);
  check(byRule.every(([r]) => r === rule), 'only that rule is visible');
  check((await page.locator('#shown').textContent()).startsWith(`${byRule.length} of ${findings.length}`),
        'the count of shown findings follows the filter');

  // Filter by file (and both together).
  await page.selectOption('#f-rule', '');
  const files = [...new Set(findings.map((f) => f.file))];
  const file = files.find((f) => f.includes('leak/')) || files[0];
  await page.selectOption('#f-file', file);
  const byFile = await visible();
  eq(byFile.length, findings.filter((f) => f.file === file).length, `file filter "${file}" shows its findings`);
  check(byFile.every(([, f]) => f === file), 'only that file is visible');
  await page.selectOption('#f-rule', 'leak');
  eq((await visible()).length, findings.filter((f) => f.file === file && f.rule === 'leak').length,
     'rule and file filters combine');
  await page.selectOption('#f-rule', '');
  await page.selectOption('#f-file', '');
  eq((await visible()).length, findings.length, 'clearing the filters shows every finding again');
  await page.screenshot({ path: path.join(shots, 'index.png'), fullPage: true });

  // A finding with a long path where the reference count changes.
  const pick = findings.findIndex((f) => f.path.length >= 4 && f.path.filter((s) => s.refs !== undefined).length >= 2 &&
                                         f.path.some((s) => s.refs === undefined));
  const fi = pick >= 0 ? pick : findings.findIndex((f) => f.path.length >= 3);
  check(fi >= 0, `a finding with a path of several steps (#${fi + 1})`);
  const f = findings[fi];
  await rows.nth(fi).locator('td.msg a').click();
  await page.waitForURL(/finding-\d+\.html$/);
  eq(path.basename(new URL(page.url()).pathname), `finding-${fi + 1}.html`, 'the row links to its finding page');
  eq(await page.locator('#message').textContent(), f.message, 'the page shows the finding\'s message');
  eq(await page.locator('ol.path[data-path="0"] li.step').count(), f.path.length, 'every step of the path is listed');
  const srcRows = await page.locator('table.code tr[id^="L"]').count();
  check(srcRows >= 3, `the function's source is shown (${srcRows} lines)`);
  const reported = await page.locator('tr.reported td.ln').textContent();
  eq(Number(reported), f.line, 'the reported line is marked');
  eq(await page.locator('tr.note').count(), f.path.length, 'a note under the source for every step');

  const state = async () => page.evaluate(() => ({
    step: document.body.dataset.step,
    num: document.querySelector('ol.path li.current .num')?.textContent,
    note: document.querySelector('tr.note.current')?.dataset.step,
    row: document.querySelector('table.code tr.current')?.id,
    refs: document.getElementById('refs').textContent,
    no: document.getElementById('stepno').textContent,
  }));
  const expect = (k) => ({
    step: String(k + 1), num: String(k + 1), note: String(k + 1), row: `L${f.path[k].line}`,
    refs: f.path[k].refs === undefined ? '' : `refs: ${f.path[k].refs}`, no: String(k + 1),
  });
  eq(await state(), expect(0), 'opens on step 1');
  await page.keyboard.press('n');
  eq(await state(), expect(1), 'n: step 2 highlighted with its line and refcount');
  await page.keyboard.press('ArrowRight');
  eq(await state(), expect(2), 'ArrowRight: step 3');
  await page.keyboard.press('p');
  eq(await state(), expect(1), 'p: back to step 2');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  eq(await state(), expect(0), 'ArrowLeft stops at step 1');
  await page.keyboard.press('End');
  eq(await state(), expect(f.path.length - 1), 'End: the last step');
  await page.keyboard.press('n');
  eq(await state(), expect(f.path.length - 1), 'n at the last step stays there');
  const mid = Math.min(2, f.path.length - 1);
  await page.keyboard.press('Home');
  for (let k = 0; k < mid; k++) await page.keyboard.press('n');
  eq(await state(), expect(mid), `Home then n x${mid}: step ${mid + 1}`);
  const inView = await page.evaluate(() => {
    const r = document.querySelector('tr.note.current').getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  });
  check(inView, 'the current step is scrolled into view');
  await page.screenshot({ path: path.join(shots, 'finding-mid-path.png') });

  // Other paths: some finding of the demo has one; replay it.
  let withOthers = -1;
  for (let i = 0; i < findings.length && withOthers < 0; i++)
    if (fs.readFileSync(path.join(outDir, `finding-${i + 1}.html`), 'utf8').includes('id="others"'))
      withOthers = i;
  check(withOthers >= 0, `a finding shows other paths to the same bug (#${withOthers + 1})`);
  if (withOthers >= 0) {
    await page.goto(pathToFileURL(path.join(outDir, `finding-${withOthers + 1}.html`)).href);
    check(!(await page.locator('details#others').evaluate((d) => d.open)), 'other paths start collapsed');
    const mainCount = await page.locator('ol.path[data-path="0"] li.step').count();
    await page.locator('details#others summary').click();
    const altCount = await page.locator('ol.path[data-path="1"] li.step').count();
    await page.locator('button[data-path="1"]').click();
    const st = await page.evaluate(() => ({ path: document.body.dataset.path, step: document.body.dataset.step,
                                            total: document.getElementById('steptotal').textContent,
                                            notes: document.querySelectorAll('tr.note').length }));
    eq(st.path, '2', 'replaying the second path');
    eq(st.step, '1', 'from its first step');
    eq(Number(st.total), altCount, 'the bar counts the second path\'s steps');
    check(st.notes <= altCount && st.notes > 0, `its notes are drawn on the source (${st.notes})`);
    const differs = await page.evaluate(() => {
      const a = [...document.querySelectorAll('ol.path[data-path="0"] li.step')].map((l) => l.textContent);
      const b = [...document.querySelectorAll('ol.path[data-path="1"] li.step')].map((l) => l.textContent);
      return JSON.stringify(a) !== JSON.stringify(b);
    });
    check(differs, `the other path differs from the reported one (${altCount} vs ${mainCount} steps)`);
    await page.keyboard.press('n');
    eq(await page.evaluate(() => document.body.dataset.step), '2', 'n steps through the other path');
    await page.screenshot({ path: path.join(shots, 'finding-other-path.png') });
  }

  // Back to the index through the page's link: the filter is remembered.
  await page.goto(indexUrl);
  await page.selectOption('#f-rule', 'leak');
  await page.locator('tr.finding:visible td.msg a').first().click();
  await page.waitForURL(/finding-\d+\.html$/);
  await page.locator('#to-index').click();
  await page.waitForURL(/index\.html/);
  eq(await page.locator('#f-rule').inputValue(), 'leak', 'the rule filter survives a visit to a finding');
  eq((await visible()).length, findings.filter((x) => x.rule === 'leak').length, 'and still applies');
} finally {
  await browser.close();
}

const foreign = requests.filter((u) => !u.startsWith('file://'));
eq(foreign, [], `no request left file:// (${requests.length} requests)`);
check(requests.length > 0, 'requests were observed at all');
eq(pageErrors, [], 'no script errors in the pages');

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${checks - failures} of ${checks} checks passed; screenshots in ${shots}`);
process.exit(failures ? 1 : 0);
