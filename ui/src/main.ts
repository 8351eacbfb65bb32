// The status dashboard: node state, balances and recent invoices, refreshed every few seconds.

import { api, ApiError, type Connection } from './api/client';
import { forget, fromDesktop, fromTab, remember } from './connection';
import { formatSats, formatTime } from './format';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function showError(message: string | null): void {
  const el = $('error');
  el.hidden = message === null;
  el.textContent = message ?? '';
}

function fill(dl: HTMLElement, rows: [string, string][]): void {
  dl.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v;
    return [dt, dd];
  }));
}

async function refresh(conn: Connection): Promise<void> {
  try {
    const health = await api.health(conn);
    $('network').textContent = health.sandbox ? `${health.network} sandbox` : health.network;
    fill($('node'), [
      ['State', health.node.error ? `${health.node.state}: ${health.node.error}` : health.node.state],
      ['Synced', health.synced ? `yes, block ${health.block_height}` : 'no'],
      ['Node id', health.node_id ?? '—'],
      ['Chain source', health.node.chain_source],
    ]);
    const [balance, invoices] = await Promise.all([api.balance(conn), api.invoices(conn)]);
    fill($('balance'), [
      ['Lightning', formatSats(balance.lightning.total)],
      ['Can send', formatSats(balance.lightning.spendable)],
      ['Can receive', `${formatSats(balance.lightning.receivable)} (one payment up to ${formatSats(balance.lightning.max_single_receive)})`],
      ['On-chain', `${formatSats(balance.onchain.confirmed)} confirmed, ${formatSats(balance.onchain.unconfirmed)} incoming`],
    ]);
    const rows = invoices.data.map((inv) => {
      const tr = document.createElement('tr');
      for (const [text, cls] of [[formatTime(inv.created_at), ''], [inv.description || '—', ''],
        [formatSats(inv.amount_received ?? inv.amount), 'num'], [inv.status, `status ${inv.status}`]]) {
        const td = document.createElement('td'); td.textContent = text; td.className = cls; tr.append(td);
      }
      return tr;
    });
    $('invoices').querySelector('tbody')!.replaceChildren(...rows);
    $('status').hidden = false;
    showError(null);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      forget();
      start();
      showError(e.message);
      return;
    }
    showError(e instanceof Error ? e.message : String(e));
  }
}

let timer: number | undefined;

function run(conn: Connection): void {
  $('login').hidden = true;
  void refresh(conn);
  window.clearInterval(timer);
  timer = window.setInterval(() => void refresh(conn), 5000);
}

async function start(): Promise<void> {
  const conn = (await fromDesktop().catch(() => null)) ?? fromTab();
  if (conn) return run(conn);
  window.clearInterval(timer);
  $('status').hidden = true;
  const form = $<HTMLFormElement>('login');
  form.hidden = false;
  form.onsubmit = (ev) => {
    ev.preventDefault();
    run(remember($<HTMLInputElement>('key').value.trim()));
  };
}

void start();
