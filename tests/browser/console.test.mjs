// The web console in Debian's headless Chromium: log in through the form, run a job on a table of
// a few hundred thousand rows, watch its progress rise, cancel it, and see it CANCELLED with an
// end time, as the API says too. Run by tests/browser/run, which prepares maskd and the job.
//
// Environment: MASKD_URL, MASKD_ADMIN_PASSWORD, MASKD_JOB_ID, MASKD_BROWSER_ARTIFACTS.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { chromium } from 'playwright-core';

import { api, login } from './maskd.mjs';

const { MASKD_URL, MASKD_ADMIN_PASSWORD, MASKD_JOB_ID, MASKD_BROWSER_ARTIFACTS } = process.env;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WAIT = { timeout: 60_000 };

test('an operator runs a job, watches its progress and cancels it', { timeout: 300_000 }, async (t) => {
  for (const [name, value] of Object.entries({ MASKD_URL, MASKD_ADMIN_PASSWORD, MASKD_JOB_ID, MASKD_BROWSER_ARTIFACTS })) {
    assert.ok(value, `${name} is set (tests/browser/run sets it)`);
  }
  await mkdir(MASKD_BROWSER_ARTIFACTS, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), 'maskd-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 1000 },
  });
  t.after(async () => {
    await browser.close();
    await rm(profile, { recursive: true, force: true });
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  // Anything the page throws, or the CSP refuses, fails the test. Chromium also logs every non-2xx
  // answer as a console error: those are expected where the test provokes one.
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  const screenshot = (name) => page.screenshot({ path: join(MASKD_BROWSER_ARTIFACTS, name), fullPage: true });
  try {
    await runJobAndCancelIt(page, screenshot, t);
  } catch (error) {
    await screenshot('console-failure.png');
    throw error;
  }
  assert.deepEqual(problems, []);
});

/** The operator's story, step by step; `t` reports what was seen. */
async function runJobAndCancelIt(page, screenshot, t) {
  await page.goto(`${MASKD_URL}/`);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#login-reason', { hasText: 'Login failed' }).waitFor(WAIT);
  await page.getByLabel('Password').fill(MASKD_ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#whoami', { hasText: 'admin' }).waitFor(WAIT);

  const jobRow = page.locator(`#job-${MASKD_JOB_ID}`);
  await jobRow.waitFor(WAIT);
  assert.equal(await jobRow.locator('.job-name').textContent(), 'mask customers');
  await page.locator(`#run-job-${MASKD_JOB_ID}`).click();

  // The database is fresh: the job's execution is the only one, at the top.
  const row = page.locator('#executions-body tr[data-execution-id]').first();
  await row.waitFor(WAIT);
  const executionId = await row.getAttribute('data-execution-id');
  await page.locator('#notice', { hasText: `Execution ${executionId} ` }).waitFor(WAIT);

  // Progress, read from the page: the next rowsMasked it shows, once it differs from `previous`
  // (or once the execution is over, which the assertion then reports).
  const nextReading = async (previous) => {
    await page.waitForFunction(
      ([id, seen]) => {
        const r = document.querySelector(`#execution-${id}`);
        return Number(r?.querySelector('.rows')?.dataset.rowsMasked) !== seen
          || !['QUEUED', 'RUNNING'].includes(r?.dataset.status);
      },
      [executionId, previous],
      WAIT,
    );
    const status = await row.getAttribute('data-status');
    assert.ok(['QUEUED', 'RUNNING'].includes(status),
      `the execution ended ${status} before its progress could be watched: make the table larger (MASKD_BROWSER_ROWS)`);
    return Number(await row.locator('.rows').getAttribute('data-rows-masked'));
  };
  const readings = [await nextReading(0)];
  while (readings.length < 3) {
    const previous = readings.at(-1);
    const now = await nextReading(previous);
    assert.ok(now > previous, `rowsMasked went from ${previous} to ${now}`);
    readings.push(now);
  }
  assert.equal(await row.getAttribute('data-status'), 'RUNNING');
  const total = Number(await row.locator('.rows').getAttribute('data-rows-total'));
  assert.ok(total > readings.at(-1), `rowsTotal ${total} is above the rows masked so far`);
  const bar = await row.locator('progress').evaluate((p) => ({ value: p.value, max: p.max }));
  assert.equal(bar.max, total);
  assert.ok(bar.value >= readings.at(-1) && bar.value < total, `the bar shows ${bar.value} of ${bar.max}`);
  t.diagnostic(`rowsMasked seen rising: ${readings.join(' < ')} of ${total}`);
  await screenshot('console-running.png');

  // Running it again while it runs is refused, and the console says why in words.
  await page.locator(`#run-job-${MASKD_JOB_ID}`).click();
  await page.locator('#error-text', { hasText: `already has execution ${executionId}` }).waitFor(WAIT);

  // Cancel: the button carries the status shown beside it.
  const cancel = page.locator(`#cancel-${executionId}`);
  assert.equal(await cancel.getAttribute('data-expected-status'), 'RUNNING');
  assert.ok(await page.getByLabel('Graceful cancel').isChecked());
  await cancel.click();
  await page.waitForFunction(
    (id) => {
      const r = document.querySelector(`#execution-${id}`);
      return r?.dataset.status === 'CANCELLED' && r.querySelector('td.end-time time') !== null;
    },
    executionId,
    WAIT,
  );
  assert.equal(await page.locator(`#cancel-${executionId}`).count(), 0, 'no Cancel offered once cancelled');
  const shownEnd = await row.locator('td.end-time time').getAttribute('datetime');
  const shownEndTitle = await row.locator('td.end-time time').getAttribute('title');
  assert.equal(shownEndTitle, shownEnd, 'the ISO time is in the title');

  await page.locator(`#details-${executionId}`).click();
  await page.locator('#components-body tr[id^="component-"]', { hasText: 'customers' }).waitFor(WAIT);
  assert.equal(await page.locator('#detail-title').textContent(), `Execution ${executionId}`);
  await screenshot('console-cancelled.png');

  // The API agrees with the page.
  const token = await login('admin', MASKD_ADMIN_PASSWORD);
  const execution = await api(token, 'GET', `/executions/${executionId}`);
  assert.equal(execution.status, 'CANCELLED');
  assert.ok(execution.endTime, 'the execution has an end time');
  assert.equal(execution.endTime, shownEnd);
  assert.ok(execution.rowsMasked < execution.rowsTotal, `cancelled part-way: ${execution.rowsMasked} of ${execution.rowsTotal}`);
}
