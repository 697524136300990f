// The maskd web console: a plain ES module, no framework, no build step. It talks to the same API
// any client uses, under /masking/api, with the token from POST /login kept in sessionStorage.

const API = '/masking/api';
const TOKEN_KEY = 'maskd.token';
const USER_KEY = 'maskd.user';
const REFRESH_MS = 1000;
const RETRY_MS = 3000;
const JOBS_PAGE_SIZE = 10;
const DETAIL_PAGE_SIZE = 50;

const $ = (id) => document.getElementById(id);
const numbers = new Intl.NumberFormat();
const dates = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

class ApiError extends Error {
  /** `status` is the HTTP status, 0 when maskd could not be reached. */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------------
// The API

/** Sends a request; answers the parsed JSON body, or throws an ApiError with maskd's words. */
async function api(method, path, { query = {}, body } = {}) {
  const url = new URL(API + path, location.origin);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = token;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  let text;
  try {
    response = await fetch(url, init);
    text = await response.text();
  } catch {
    throw new ApiError(0, 'maskd could not be reached (network failure); check that it is running and that the network is up');
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.ok) return data;
  const message = typeof data?.errorMessage === 'string'
    ? data.errorMessage
    : `maskd answered ${response.status} ${response.statusText} without an explanation`;
  // A token that stopped working sends the user back to the login form, whatever was asked
  // (unless the user has logged out or in again while this request was on its way).
  if (response.status === 401 && token && token === sessionStorage.getItem(TOKEN_KEY)) {
    endSession(`Your session has ended: ${message}`);
  }
  throw new ApiError(response.status, message);
}

const isLive = (e) => e.status === 'QUEUED' || e.status === 'RUNNING' || (e.status === 'CANCELLED' && !e.endTime);

// ---------------------------------------------------------------------------------------------
// Small DOM helpers (text is always set as text, never parsed as HTML)

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('data-') || name.startsWith('aria-') || name === 'role') node.setAttribute(name, value);
    else node[name] = value;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** A local time (today's without the date), with the ISO value in its title; a dash when absent. */
function timeOf(iso) {
  if (!iso) return el('span', { class: 'muted' }, '—');
  const time = new Date(iso);
  const today = time.toDateString() === new Date().toDateString();
  return el('time', { dateTime: iso, title: iso }, (today ? clock : dates).format(time));
}

function statusBadge(status, endTime) {
  const stopping = status === 'CANCELLED' && !endTime;
  return el('span', { class: `badge status-${status.toLowerCase()}`, 'data-status': status },
    status, stopping ? el('span', { class: 'stopping' }, ' stopping…') : null);
}

/** A progress bar from rowsMasked/rowsTotal; rowsTotal -1 means maskd is still counting. */
function progressOf(label, status, rowsMasked, rowsTotal) {
  const rows = el('span', { class: 'rows', 'data-rows-masked': rowsMasked ?? 0, 'data-rows-total': rowsTotal ?? '' });
  if (rowsTotal === null || rowsTotal === undefined) {
    rows.textContent = status === 'QUEUED' ? 'waiting for a worker' : 'not started';
    return el('div', { class: 'meter', 'data-status': status }, rows);
  }
  const bar = el('progress', { 'aria-label': label });
  if (rowsTotal === -1) {
    rows.textContent = 'counting…';
  } else {
    bar.max = Math.max(rowsTotal, 1);
    bar.value = Math.min(rowsMasked, bar.max);
    const percent = rowsTotal > 0 ? Math.floor((100 * rowsMasked) / rowsTotal) : 100;
    rows.textContent = `${numbers.format(rowsMasked)} / ${numbers.format(rowsTotal)} (${percent}%)`;
  }
  return el('div', { class: 'meter', 'data-status': status }, bar, rows);
}

/** Replaces a cell's content only when `key` changed, so focus and hover survive refreshes. */
function setCell(cell, key, build) {
  if (cell.dataset.key === key) return;
  cell.dataset.key = key;
  cell.replaceChildren(build());
}

function emptyRow(columns, text) {
  return el('tr', { class: 'empty' }, el('td', { colSpan: columns }, text));
}

/**
 * Paging controls, shown when there is more than one page. `nouns` is [singular, plural];
 * `labels` names the four moves (first, previous, next, last); `go(n)` shows page n.
 */
function renderPager(nav, { page, pages, total, nouns, labels, go }) {
  const move = (name, label, target, enabled) =>
    el('button', { type: 'button', id: `${nav.id}-${name}`, disabled: !enabled, onclick: () => go(target) }, label);
  const count = `${numbers.format(total)} ${total === 1 ? nouns[0] : nouns[1]}`;
  nav.replaceChildren(
    move('first', labels[0], 1, page > 1),
    move('previous', labels[1], page - 1, page > 1),
    el('span', { class: 'page-info' }, `Page ${page} of ${pages} · ${count}`),
    move('next', labels[2], page + 1, page < pages),
    move('last', labels[3], pages, page < pages),
  );
  nav.hidden = pages <= 1;
}

// ---------------------------------------------------------------------------------------------
// Messages

let errorSource = null;

/** Shows an error in words. `source` 'refresh' errors clear themselves on the next good refresh. */
function showError(context, err, source = 'action') {
  if (err instanceof ApiError && err.status === 401) return; // the login form shows it
  $('error-text').textContent = `${context}: ${err.message}`;
  $('error').hidden = false;
  errorSource = source;
}

function clearError(source) {
  if (source && source !== errorSource) return;
  $('error').hidden = true;
  $('error-text').textContent = '';
  errorSource = null;
}

function showNotice(text) {
  $('notice').textContent = text;
  $('notice').hidden = false;
}

function clearMessages() {
  clearError();
  $('notice').hidden = true;
  $('notice').textContent = '';
}

// ---------------------------------------------------------------------------------------------
// Session

function showLogin(reason) {
  stopRefreshing();
  $('app-view').hidden = true;
  $('session').hidden = true;
  $('login-view').hidden = false;
  $('login-reason').textContent = reason ?? '';
  $('username').focus();
}

function endSession(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearMessages();
  closeDetail();
  showLogin(reason);
}

function showApp() {
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('session').hidden = false;
  $('whoami').textContent = `Logged in as ${sessionStorage.getItem(USER_KEY) ?? 'unknown user'}`;
  loadJobs();
  refresh();
}

async function logIn(event) {
  event.preventDefault();
  const username = $('username').value.trim();
  const password = $('password').value;
  $('login-submit').disabled = true;
  $('login-reason').textContent = '';
  sessionStorage.removeItem(TOKEN_KEY);
  try {
    const answer = await api('POST', '/login', { body: { username, password } });
    sessionStorage.setItem(TOKEN_KEY, answer.Authorization);
    sessionStorage.setItem(USER_KEY, username);
    $('password').value = '';
    showApp();
  } catch (err) {
    $('login-reason').textContent = `Login failed: ${err.message}`;
  } finally {
    $('login-submit').disabled = false;
  }
}

async function logOut() {
  try {
    await api('PUT', '/logout');
  } catch {
    // The token is forgotten here either way; an unreachable maskd lets it expire on its own.
  }
  endSession('You have logged out.');
}

// ---------------------------------------------------------------------------------------------
// Jobs

const jobs = { page: 1 };
/** Job names by id, from the job pages seen and from single look-ups for executions' jobs. */
const jobNames = new Map();

async function loadJobs() {
  try {
    const data = await api('GET', '/masking-jobs', { query: { page_number: jobs.page, page_size: JOBS_PAGE_SIZE } });
    renderJobs(data);
  } catch (err) {
    // Jobs deleted meanwhile can leave the page past the last one: start again from the first.
    if (err.status === 400 && jobs.page > 1) {
      jobs.page = 1;
      return loadJobs();
    }
    showError('Could not list the masking jobs', err);
  }
}

function renderJobs(data) {
  const list = data.responseList;
  for (const job of list) jobNames.set(job.maskingJobId, job.jobName);
  $('jobs-body').replaceChildren(
    ...(list.length === 0 ? [emptyRow(6, 'No masking jobs yet: create one through the API.')] : list.map(jobRow)),
  );
  const total = data._pageInfo.total;
  renderPager($('jobs-pager'), {
    page: jobs.page,
    pages: Math.max(1, Math.ceil(total / JOBS_PAGE_SIZE)),
    total,
    nouns: ['job', 'jobs'],
    labels: ['« First', '‹ Previous', 'Next ›', 'Last »'],
    go: (page) => {
      jobs.page = page;
      loadJobs();
    },
  });
}

function jobRow(job) {
  const id = job.maskingJobId;
  return el('tr', { id: `job-${id}`, 'data-job-id': id },
    el('th', { scope: 'row', class: 'num' }, String(id)),
    el('td', { class: 'job-name' }, job.jobName),
    el('td', { class: 'num' }, String(job.rulesetId)),
    el('td', { class: 'description' }, job.jobDescription ?? ''),
    el('td', {}, timeOf(job.createdTime)),
    el('td', { class: 'actions' }, el('span', { class: 'buttons' },
      el('button', {
        type: 'button', id: `run-job-${id}`, class: 'primary', 'data-action': 'run', 'data-job-id': id,
        'aria-label': `Run job ${job.jobName} (${id})`,
      }, 'Run'),
      el('button', {
        type: 'button', id: `show-job-${id}`, 'data-action': 'show', 'data-job-id': id,
        'aria-label': `Show the executions of job ${job.jobName} (${id})`,
      }, 'Executions'))));
}

async function runJob(button) {
  const id = Number(button.dataset.jobId);
  const name = jobNames.get(id) ?? `job ${id}`;
  button.disabled = true;
  clearMessages();
  try {
    const execution = await api('POST', '/executions', { body: { jobId: id } });
    showNotice(`Execution ${execution.executionId} of “${name}” submitted.`);
    executions.page = 1;
  } catch (err) {
    showError(`Could not run “${name}”`, err);
  } finally {
    button.disabled = false;
    refresh();
  }
}

function showJobExecutions(button) {
  $('filter-job').value = button.dataset.jobId;
  applyFilter();
}

// ---------------------------------------------------------------------------------------------
// Executions, newest first

const executions = { page: 1, size: 25, jobId: '', status: '' };
const executionRows = new Map();
let lastView = null;

/**
 * One screen page of executions, newest first. The API lists them by ascending id, so the newest
 * `size` are the end of the list: the first API page tells the total, and the screen page is then
 * cut from the (at most two) API pages that hold it.
 */
async function fetchExecutions() {
  const { size } = executions;
  const filter = { job_id: executions.jobId, execution_status: executions.status };
  const get = (page) => api('GET', '/executions', { query: { ...filter, page_number: page, page_size: size } });
  const first = await get(1);
  const total = first._pageInfo.total;
  const pages = Math.max(1, Math.ceil(total / size));
  const page = Math.min(executions.page, pages);
  const end = total - (page - 1) * size; // exclusive, in ascending order
  const start = Math.max(0, end - size);
  const firstApiPage = Math.floor(start / size) + 1;
  const lastApiPage = Math.max(firstApiPage, Math.ceil(end / size));
  const apiPages = [];
  for (let p = firstApiPage; p <= lastApiPage; p++) apiPages.push(p === 1 ? first : get(p));
  const items = (await Promise.all(apiPages)).flatMap((answer) => answer.responseList);
  const offset = start - (firstApiPage - 1) * size;
  return { total, pages, page, list: items.slice(offset, offset + end - start).reverse() };
}

function renderExecutions(view) {
  executions.page = view.page;
  const tbody = $('executions-body');
  const filtered = executions.jobId || executions.status;
  const rows = view.list.map((e) => {
    let row = executionRows.get(e.executionId);
    if (!row) {
      row = el('tr', { id: `execution-${e.executionId}`, 'data-execution-id': e.executionId },
        el('th', { scope: 'row', class: 'num' }, String(e.executionId)),
        ...['job', 'status', 'progress', 'submit-time', 'start-time', 'end-time', 'actions']
          .map((name) => el('td', { class: name })));
      executionRows.set(e.executionId, row);
    }
    updateExecutionRow(row, e);
    return row;
  });
  for (const id of executionRows.keys()) {
    if (!view.list.some((e) => e.executionId === id)) executionRows.delete(id);
  }
  if (rows.length === 0) {
    tbody.replaceChildren(emptyRow(8, filtered ? 'No executions match these filters.' : 'No executions yet: run a job above.'));
  } else if (rows.length !== tbody.children.length || rows.some((row, i) => tbody.children[i] !== row)) {
    tbody.replaceChildren(...rows);
  }
  renderPager($('executions-pager'), {
    page: view.page,
    pages: view.pages,
    total: view.total,
    nouns: ['execution', 'executions'],
    labels: ['« Newest', '‹ Newer', 'Older ›', 'Oldest »'],
    go: (page) => {
      executions.page = page;
      refresh();
    },
  });
}

function updateExecutionRow(row, e) {
  const cell = (name) => row.querySelector(`td.${name}`);
  const id = e.executionId;
  row.dataset.status = e.status;
  const job = jobNames.get(e.jobId);
  setCell(cell('job'), `${e.jobId}|${job}`, () => (job
    ? el('span', { title: `job ${e.jobId}: ${job}` }, el('span', { class: 'muted' }, `${e.jobId} · `), job)
    : el('span', {}, String(e.jobId))));
  setCell(cell('status'), `${e.status}|${e.endTime}`, () => statusBadge(e.status, e.endTime));
  setCell(cell('progress'), `${e.status}|${e.rowsMasked}|${e.rowsTotal}`,
    () => progressOf(`Rows masked by execution ${id}`, e.status, e.rowsMasked, e.rowsTotal));
  // Times of today show no date: a page left open past midnight redraws them.
  const day = new Date().toDateString();
  setCell(cell('submit-time'), `${e.submitTime}|${day}`, () => timeOf(e.submitTime));
  setCell(cell('start-time'), `${e.startTime}|${day}`, () => timeOf(e.startTime));
  setCell(cell('end-time'), `${e.endTime}|${day}`, () => timeOf(e.endTime));
  // The cancel button carries the status shown beside it: that is what the cancel expects.
  setCell(cell('actions'), e.status, () => el('span', { class: 'buttons' },
    e.status === 'QUEUED' || e.status === 'RUNNING'
      ? el('button', {
        type: 'button', id: `cancel-${id}`, class: 'danger', 'data-action': 'cancel',
        'data-execution-id': id, 'data-expected-status': e.status,
        'aria-label': `Cancel execution ${id} (${e.status})`,
      }, 'Cancel')
      : null,
    el('button', {
      type: 'button', id: `details-${id}`, 'data-action': 'details', 'data-execution-id': id,
      'aria-label': `Details of execution ${id}`,
    }, 'Details')));
}

/** Looks up the names of jobs not seen on a job page yet, then shows them. */
const jobLookups = new Set();
async function lookUpJobNames(list) {
  const missing = [...new Set(list.map((e) => e.jobId))].filter((id) => !jobNames.has(id) && !jobLookups.has(id));
  if (missing.length === 0) return;
  missing.forEach((id) => jobLookups.add(id));
  await Promise.all(missing.map(async (id) => {
    try {
      jobNames.set(id, (await api('GET', `/masking-jobs/${id}`)).jobName);
    } catch {
      // The id alone is shown; the job may have been deleted.
    }
  }));
  if (lastView) renderExecutions(lastView);
}

async function cancelExecution(button) {
  const id = button.dataset.executionId;
  const expected = button.dataset.expectedStatus;
  const graceful = $('graceful').checked;
  button.disabled = true;
  clearMessages();
  try {
    const execution = await api('POST', `/executions/${id}/cancel`, { query: { expectedStatus: expected, graceful } });
    showNotice(`Execution ${id} was ${expected} and is now ${execution.status}`
      + `${execution.endTime ? '.' : `; it stops ${graceful ? 'gracefully' : 'at once'}.`}`);
  } catch (err) {
    // Typically a 400: the status changed since the page showed it. The refresh shows the new one.
    showError(`Execution ${id} was not cancelled`, err);
  } finally {
    button.disabled = false;
    refresh();
  }
}

function applyFilter(event) {
  event?.preventDefault();
  executions.jobId = $('filter-job').value.trim();
  executions.status = $('filter-status').value;
  executions.size = Number($('executions-page-size').value);
  executions.page = 1;
  refresh();
}

// ---------------------------------------------------------------------------------------------
// The detail of one execution: its components (one per table) and events

const detail = { id: null, componentsPage: 1, eventsPage: 1 };

function openDetail(id) {
  detail.id = Number(id);
  detail.componentsPage = 1;
  detail.eventsPage = 1;
  $('detail-title').textContent = `Execution ${id}`;
  $('detail-summary').replaceChildren();
  $('components-body').replaceChildren(emptyRow(6, 'Loading…'));
  $('events-body').replaceChildren(emptyRow(7, 'Loading…'));
  $('detail-section').hidden = false;
  refresh().then(() => $('detail-section').scrollIntoView({ behavior: 'smooth', block: 'start' }));
}

function closeDetail() {
  detail.id = null;
  $('detail-section').hidden = true;
}

/** Loads and shows the open detail; answers whether it is still changing. */
async function refreshDetail() {
  const id = detail.id;
  const paged = (path, page) => api('GET', path, { query: { execution_id: id, page_number: page, page_size: DETAIL_PAGE_SIZE } });
  const [execution, components, events] = await Promise.all([
    api('GET', `/executions/${id}`),
    paged('/execution-components', detail.componentsPage),
    paged('/execution-events', detail.eventsPage),
  ]);
  if (detail.id !== id) return false; // closed or replaced meanwhile
  renderSummary(execution);
  renderDetailList('components', ['component', 'components'], components, detail.componentsPage, 6, 'No tables masked yet.', componentRow, (page) => {
    detail.componentsPage = page;
  });
  renderDetailList('events', ['event', 'events'], events, detail.eventsPage, 7, 'No events.', eventRow, (page) => {
    detail.eventsPage = page;
  });
  return isLive(execution);
}

function renderSummary(e) {
  const job = jobNames.get(e.jobId);
  const entries = [
    ['Job', job ? `${e.jobId} · ${job}` : String(e.jobId)],
    ['Status', statusBadge(e.status, e.endTime)],
    ['Progress', progressOf(`Rows masked by execution ${e.executionId}`, e.status, e.rowsMasked, e.rowsTotal)],
    ['Submitted', timeOf(e.submitTime)],
    ['Started', timeOf(e.startTime)],
    ['Ended', timeOf(e.endTime)],
  ];
  $('detail-summary').replaceChildren(...entries.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]));
}

function renderDetailList(name, nouns, data, page, columns, emptyText, row, setPage) {
  const list = data.responseList;
  $(`${name}-body`).replaceChildren(...(list.length === 0 ? [emptyRow(columns, emptyText)] : list.map(row)));
  const total = data._pageInfo.total;
  renderPager($(`${name}-pager`), {
    page,
    pages: Math.max(1, Math.ceil(total / DETAIL_PAGE_SIZE)),
    total,
    nouns,
    labels: ['« First', '‹ Previous', 'Next ›', 'Last »'],
    go: (target) => {
      setPage(target);
      refresh();
    },
  });
}

function componentRow(c) {
  return el('tr', { id: `component-${c.executionComponentId}` },
    el('th', { scope: 'row', class: 'num' }, String(c.executionComponentId)),
    el('td', {}, c.componentName),
    el('td', {}, statusBadge(c.status, c.endTime)),
    el('td', {}, progressOf(`Rows masked in ${c.componentName}`, c.status, c.rowsMasked, c.rowsTotal)),
    el('td', {}, timeOf(c.startTime)),
    el('td', {}, timeOf(c.endTime)));
}

function eventRow(e) {
  return el('tr', { id: `event-${e.executionEventId}` },
    el('td', {}, timeOf(e.timeStamp)),
    el('td', {}, e.eventType),
    el('td', {}, el('span', { class: `badge severity-${String(e.severity).toLowerCase()}` }, e.severity)),
    el('td', { class: 'cause' }, e.cause ?? ''),
    el('td', { class: 'num' }, e.count === null || e.count === undefined ? '' : numbers.format(e.count)),
    el('td', {}, [e.maskedObjectParentName, e.maskedObjectName].filter(Boolean).join('.')),
    el('td', {}, e.algorithmName ?? ''));
}

// ---------------------------------------------------------------------------------------------
// Refreshing: every second while anything on screen is still changing

let timer = null;
let running = null;
let queued = false;

function stopRefreshing() {
  clearTimeout(timer);
  timer = null;
}

/** Reloads the executions (and the open detail). Overlapping calls run once more afterwards. */
function refresh() {
  if (running) {
    queued = true;
    return running;
  }
  stopRefreshing();
  running = (async () => {
    let next = null;
    try {
      const view = await fetchExecutions();
      lastView = view;
      renderExecutions(view);
      let live = view.list.some(isLive);
      if (detail.id !== null) live = (await refreshDetail()) || live;
      clearError('refresh');
      $('executions-updated').textContent = live
        ? 'Live: updating every second'
        : `Updated at ${clock.format(new Date())}`;
      if (live) next = REFRESH_MS;
      lookUpJobNames(view.list);
    } catch (err) {
      showError('Could not refresh the executions', err, 'refresh');
      // maskd unreachable or failing: try again a little later. A 4xx needs the user to act.
      if (err.status === 0 || err.status >= 500) next = RETRY_MS;
      $('executions-updated').textContent = next ? `Not up to date: trying again every ${RETRY_MS / 1000} s` : 'Not up to date';
    }
    return next;
  })();
  return running.then((next) => {
    running = null;
    const again = queued;
    queued = false;
    if (!sessionStorage.getItem(TOKEN_KEY)) return;
    if (again) {
      refresh();
    } else if (next !== null) {
      timer = setTimeout(refresh, next);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Wiring

function onClick(handlers) {
  return (event) => {
    const button = event.target.closest('button[data-action]');
    if (button && handlers[button.dataset.action]) handlers[button.dataset.action](button);
  };
}

$('login-form').addEventListener('submit', logIn);
$('logout').addEventListener('click', logOut);
$('error-dismiss').addEventListener('click', () => clearError());
$('jobs-refresh').addEventListener('click', () => loadJobs());
$('executions-refresh').addEventListener('click', () => refresh());
$('executions-filter').addEventListener('submit', applyFilter);
$('filter-status').addEventListener('change', applyFilter);
$('executions-page-size').addEventListener('change', applyFilter);
$('detail-close').addEventListener('click', closeDetail);
$('jobs').addEventListener('click', onClick({ run: runJob, show: showJobExecutions }));
$('executions').addEventListener('click', onClick({
  cancel: cancelExecution,
  details: (button) => openDetail(button.dataset.executionId),
}));

if (sessionStorage.getItem(TOKEN_KEY)) showApp();
else showLogin('');
