// The DingTalk side of the sandbox: the app (mode, Stream connections, scopes), the month's
// quota, the faults the simulator can inject, and the OpenAPI calls the bot made, live.
import { el } from './dom.js';
import { t } from './i18n.js';

/** Rows the call log keeps (the oldest go first). */
const MAX_CALL_ROWS = 200;

/** DingTalk throttles with 403 and a QPS code (90018 / 90002 on the legacy API), not 429. */
function throttled(call) {
  return /QpsLimit/.test(call.code ?? '') || call.code === '90018' || call.code === '90002';
}

/** Long paths and codes may wrap after each `/` or `.` (a <wbr>, which copying leaves out). */
function breakable(cell, text, at) {
  const parts = text.split(at);
  parts.forEach((part, i) => {
    cell.append(i < parts.length - 1 ? `${part}${at}` : part);
    if (i < parts.length - 1) cell.append(document.createElement('wbr'));
  });
  return cell;
}

export class Panel {
  /** `api(method, path, body)`: the simulator's /sim/api; `notify(text)`: a message for the user. */
  constructor(root, api, notify) {
    this.root = root;
    this.api = api;
    this.notify = notify;
    this.apps = [];
    this.faults = {};
    this.calls = root.querySelector('#calls');
    this.wire();
  }

  wire() {
    const form = this.root.querySelector('#faults');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const number = (name) => Math.max(0, Number(data.get(name)) || 0);
      await this.api('POST', '/faults', {
        throttleNext: number('throttleNext'),
        failNext: number('failNext'),
        loseNextReplies: number('loseNextReplies'),
        latencyMs: number('latencyMs'),
        pathFilter: String(data.get('pathFilter') ?? '').trim(),
      });
    });
    this.root.querySelector('#clear-faults').addEventListener('click', () => this.api('DELETE', '/faults'));
    this.root.querySelector('#drop-stream').addEventListener('click', async () => {
      const r = await this.api('POST', '/stream/drop', { app: this.app()?.clientId });
      if (r) this.notify(t('dropped', { n: r.connections }));
    });
    this.root.querySelector('#scopes').addEventListener('change', async (event) => {
      const app = this.app();
      const box = event.target;
      if (!app || box.type !== 'checkbox') return;
      const scopes = box.checked
        ? [...new Set([...app.scopes, box.value])]
        : app.scopes.filter((s) => s !== box.value);
      await this.api('POST', `/apps/${encodeURIComponent(app.clientId)}`, { scopes });
    });
  }

  app() {
    return this.apps[0];
  }

  /** The app, quota, scopes and faults, from the simulator's state. */
  show({ apps, faults }) {
    this.apps = apps;
    this.faults = faults;
    const app = this.app();
    const dl = this.root.querySelector('#app');
    dl.replaceChildren();
    if (app) {
      const row = (k, v) => dl.append(el('dt', '', k), el('dd', '', v));
      row(t('fact.name'), app.name);
      row(t('fact.clientId'), app.clientId);
      row(t('fact.mode'), t(app.mode === 'stream' ? 'mode.stream' : 'mode.http'));
      if (app.mode === 'stream') row(t('fact.connections'), String(app.connections));
      row(t('fact.edition'), t('edition.text', { edition: app.edition, qps: app.qps }));
      row(t('fact.published'), t(app.published ? 'yes' : 'no'));
      this.showQuota(app.quota);
      const list = this.root.querySelector('#scopes');
      list.replaceChildren(
        ...app.knownScopes.map((scope) => {
          const li = el('li');
          const label = el('label');
          const box = el('input');
          box.type = 'checkbox';
          box.value = scope;
          box.checked = app.scopes.includes(scope);
          label.append(box, ` ${scope}`);
          li.append(label);
          return li;
        }),
      );
    }
    this.showFaults(faults);
  }

  showQuota(quota) {
    const bar = this.root.querySelector('#quota-bar');
    bar.max = quota.limit;
    bar.value = Math.min(quota.used, quota.limit);
    this.root.querySelector('#quota-text').textContent = t('quota.text', {
      used: quota.used.toLocaleString(),
      limit: quota.limit.toLocaleString(),
    });
  }

  showFaults(faults) {
    const active = [];
    if (faults.throttleNext) active.push(t('fault.throttle', { n: faults.throttleNext }));
    if (faults.failNext) active.push(t('fault.fail', { n: faults.failNext }));
    if (faults.loseNextReplies) active.push(t('fault.lose', { n: faults.loseNextReplies }));
    if (faults.latencyMs) active.push(t('fault.latency', { n: faults.latencyMs }));
    if (faults.errorRate) active.push(t('fault.errors', { n: Math.round(faults.errorRate * 100) }));
    if (faults.timeoutRate) active.push(t('fault.timeouts', { n: Math.round(faults.timeoutRate * 100) }));
    if (faults.refuseGateway) active.push(t('fault.gateway'));
    const where = faults.pathFilter ? t('faults.where', { filter: faults.pathFilter }) : '';
    this.root.querySelector('#faults-now').textContent = active.length
      ? t('faults.active', { list: active.join(', '), where })
      : t('faults.none');
  }

  /** The calls a page starts with (oldest first). */
  setCalls(calls) {
    this.calls.replaceChildren(...calls.map((c) => this.callRow(c)).reverse());
  }

  /** One call answered: newest on top; the quota and the faults' counters as they are now. */
  addCall({ call, quota, faults }) {
    this.calls.prepend(this.callRow(call));
    while (this.calls.childElementCount > MAX_CALL_ROWS) this.calls.lastElementChild.remove();
    const app = this.app();
    if (quota && app && quota.clientId === app.clientId) {
      app.quota = quota;
      this.showQuota(quota);
    }
    if (faults) this.showFaults(faults);
  }

  callRow(c) {
    const tr = el('tr', c.status >= 400 ? 'failed' : '');
    tr.append(
      el('td', 'time', new Date(c.at).toLocaleTimeString([], { hour12: false })),
      el('td', 'method', c.method),
      breakable(el('td', 'path'), c.path, '/'),
      el('td', 'status', throttled(c) ? `${c.status} ${t('throttled')}` : String(c.status)),
      breakable(el('td', 'code'), c.code ?? '', '.'),
      el('td', 'latency', `${c.durationMs.toFixed(1)} ms`),
    );
    return tr;
  }
}
