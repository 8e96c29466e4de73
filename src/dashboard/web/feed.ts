// The decision feed and the error list, newest first, with a bounded number of entries in the page.
import type { DecisionView, ErrorView } from '../../api/views.js';
import { clock, memory, value } from './format.js';

const KEEP = 300;

/** Controls whose values are memory in KiB, shown in MiB. */
const MEMORY_CONTROLS = new Set(['balloon_target', 'mem_limit']);

export class Feed<T> {
  private readonly list: HTMLElement;

  constructor(
    id: string,
    private readonly render: (item: T) => HTMLElement,
  ) {
    const el = document.getElementById(id);
    if (el === null) throw new Error(`no #${id}`);
    this.list = el;
  }

  /** Items oldest first; the newest is shown on top. */
  add(items: readonly T[]): void {
    this.list.prepend(...items.map(this.render).reverse());
    while (this.list.childElementCount > KEEP) this.list.lastElementChild?.remove();
  }

  clear(): void {
    this.list.replaceChildren();
  }
}

export function decisionItem(d: DecisionView): HTMLElement {
  const li = document.createElement('li');
  li.dataset['entity'] = d.entity;
  li.dataset['control'] = d.control;
  const show = (v: unknown): string =>
    MEMORY_CONTROLS.has(d.control) && typeof v === 'number' ? memory(v) : value(v);
  const time = document.createElement('time');
  time.dateTime = d.time;
  time.textContent = clock(d.time);
  const what = document.createElement('span');
  what.textContent = `${d.entity} ${d.control} ${show(d.old)} → ${show(d.new)}`;
  if (d.outcome !== 'applied') {
    const o = document.createElement('span');
    o.className = d.outcome === 'failed' ? 'failed' : 'outcome';
    o.textContent = ` (${d.outcome})`;
    what.append(o);
  }
  li.append(time, what);
  if (d.reason !== null) {
    const r = document.createElement('span');
    r.className = 'reason';
    r.textContent = d.reason;
    li.append(r);
  }
  return li;
}

export function errorItem(e: ErrorView): HTMLElement {
  const li = document.createElement('li');
  const time = document.createElement('time');
  time.dateTime = e.time;
  time.textContent = clock(e.time);
  const kind = document.createElement('span');
  kind.textContent = `${e.kind}${e.code ? ` ${e.code}` : ''}`;
  const msg = document.createElement('span');
  msg.className = 'error-msg';
  msg.textContent = e.message;
  msg.style.display = 'block';
  li.append(time, kind, msg);
  return li;
}
