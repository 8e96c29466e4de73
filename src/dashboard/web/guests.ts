// The guest table: one row per guest, only the rows in view are in the page (a hundred guests
// or a thousand cost the same to draw). Each cell keeps the raw number in data-value.
import type { GuestRowView } from '../../api/views.js';
import { memory, rate } from './format.js';

const ROW = 28;

export class GuestTable {
  private rows: readonly GuestRowView[] = [];
  private selected: string | null = null;
  private readonly scroll: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly body: HTMLElement;
  private frame = 0;

  constructor(private readonly onSelect: (name: string) => void) {
    this.scroll = byId('guest-scroll');
    this.spacer = byId('guest-spacer');
    this.body = byId('guest-rows');
    this.scroll.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.body.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('[data-guest]');
      const name = row?.dataset['guest'];
      if (name !== undefined) this.onSelect(name);
    });
  }

  set(rows: readonly GuestRowView[], selected: string | null): void {
    this.rows = rows;
    this.selected = selected;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    this.spacer.style.height = `${this.rows.length * ROW}px`;
    // As tall as its rows, up to a screenful; beyond that it scrolls.
    this.scroll.style.height = `${Math.min(this.rows.length * ROW + 2, Math.max(ROW * 6, innerHeight * 0.6))}px`;
    const first = Math.max(0, Math.floor(this.scroll.scrollTop / ROW) - 5);
    const count = Math.ceil(this.scroll.clientHeight / ROW) + 10;
    const visible = this.rows.slice(first, first + count);
    this.body.style.transform = `translateY(${first * ROW}px)`;
    this.body.replaceChildren(...visible.map((g) => this.row(g)));
  }

  private row(g: GuestRowView): HTMLElement {
    const el = document.createElement('div');
    el.className = 'row';
    el.dataset['time'] = g.time ?? '';
    el.setAttribute('role', 'row');
    el.dataset['guest'] = g.name;
    el.setAttribute('aria-selected', String(g.name === this.selected));
    const name = cell('name', g.name);
    if (g.stuck) name.append(mark('stuck', 'the balloon has not moved toward its target'));
    if (g.optOut) name.append(mark('opted out', 'the guest opted out of ballooning'));
    el.append(
      name,
      num('sizeKib', g.sizeKib, memory),
      bar(g),
      num('availableKib', g.availableKib, memory),
      num('unusedKib', g.unusedKib, memory),
      num('cacheKib', g.cacheKib, memory),
      num('floorKib', g.floorKib, memory),
      num('ceilingKib', g.ceilingKib, memory),
      swap(g),
      lastAction(g),
    );
    return el;
  }
}

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`no #${id}`);
  return el;
}

function cell(col: string, text: string): HTMLElement {
  const el = document.createElement('span');
  el.setAttribute('role', 'cell');
  el.dataset['col'] = col;
  el.textContent = text;
  el.title = text;
  return el;
}

function num(col: string, v: number | null, f: (v: number | null) => string): HTMLElement {
  const el = cell(col, f(v));
  el.classList.add('num');
  el.dataset['value'] = v === null ? '' : String(v);
  return el;
}

function mark(text: string, title: string): HTMLElement {
  const m = document.createElement('span');
  m.className = 'mark';
  m.textContent = text;
  m.title = title;
  return m;
}

/** The guest's size as a share of its ceiling, what it has available inside, and its floor. */
function bar(g: GuestRowView): HTMLElement {
  const el = cell('bar', '');
  el.title = `size ${memory(g.sizeKib)} of ${memory(g.ceilingKib)}; available ${memory(g.availableKib)}; floor ${memory(g.floorKib)}`;
  const ceiling = g.ceilingKib ?? 0;
  if (ceiling <= 0) return el;
  const pct = (v: number | null): string =>
    `${Math.min(100, Math.max(0, ((v ?? 0) / ceiling) * 100)).toFixed(1)}%`;
  const b = document.createElement('div');
  b.className = 'bar';
  const size = document.createElement('div');
  size.className = 'size';
  size.style.width = pct(g.sizeKib);
  const avail = document.createElement('div');
  avail.className = 'avail';
  avail.style.width = pct(g.availableKib);
  const floor = document.createElement('div');
  floor.className = 'floor';
  floor.style.left = pct(g.floorKib);
  b.append(size, avail, floor);
  el.append(b);
  return el;
}

function swap(g: GuestRowView): HTMLElement {
  const el = cell('swap', `${rate(g.swapInRate)} / ${rate(g.swapOutRate)}`);
  el.classList.add('num');
  el.title = 'pages swapped in / out per second';
  return el;
}

function lastAction(g: GuestRowView): HTMLElement {
  const a = g.lastAction;
  if (a === null) return cell('lastAction', '–');
  const el = cell('lastAction', `${a.control} ${String(a.old)} → ${String(a.new)} (${a.outcome})`);
  if (a.reason !== null) el.title = a.reason;
  return el;
}
