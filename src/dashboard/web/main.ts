// The dashboard: loads what momd knows (status, timeline, guests, decisions) once, then follows
// the event stream and updates everything in place. Everything it shows comes from the API.
import type uPlot from 'uplot';
import type { CycleView, DecisionView, GuestRowView, StatusView, StreamEvent } from '../../api/views.js';
import type { TimelinePoint, TimelineView } from '../timeline.js';
import { Api, forgetToken, saveToken, takeToken, Unauthorized } from './api.js';
import { Chart, mib, percent, perSecond } from './charts.js';
import { decisionItem, errorItem, Feed } from './feed.js';
import { clock, memory } from './format.js';
import { GuestTable } from './guests.js';

type Column = (number | null)[];

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`no #${id}`);
  return el;
};

class Dashboard {
  private readonly api: Api;
  private hostKeys: string[] = [];
  private guestKeys: string[] = [];
  private capacity = 360;
  private guestCapacity = 361;
  private last = -1;
  private t: number[] = [];
  private host: Column[] = [];
  private selected: string | null = null;
  private guestT: number[] = [];
  private guestCols: Column[] = [];
  private rows: readonly GuestRowView[] = [];
  private readonly table = new GuestTable((name) => void this.select(name));
  private readonly decisions = new Feed<DecisionView>('decisions', decisionItem);
  private readonly errors = new Feed('errors', errorItem);
  private readonly memory: Chart;
  private readonly psi: Chart;
  private readonly ksm: Chart;
  private readonly guest: Chart;
  private readonly paging: Chart;

  constructor(token: string | null) {
    this.api = new Api(token);
    const own = (key: string) => (i: number) => memory(this.hostValue(key, i));
    this.memory = new Chart($('chart-memory'), {
      y: mib,
      yMin0: true,
      lines: [
        { label: 'swap used', stroke: '#e15759', fill: '#e1575955', legend: own('swap_usage') },
        { label: 'free', stroke: '#8cbf6d', fill: '#d4e8c4', legend: own('mem_unused') },
        { label: 'cache', stroke: '#6ba3d0', fill: '#a0cbe8', legend: own('mem_cached') },
        { label: 'used (guests, host)', stroke: '#4e79a7', fill: '#4e79a7cc', legend: own('mem_used') },
        { label: 'total', stroke: '#1d1f21', dash: [4, 4] },
      ],
    });
    this.psi = new Chart($('chart-psi'), {
      y: percent,
      yMin0: true,
      lines: [
        { label: 'some', stroke: '#f28e2b' },
        { label: 'full', stroke: '#c0392b' },
      ],
    });
    this.ksm = new Chart($('chart-ksm'), {
      y: mib,
      y2: percent,
      yMin0: true,
      lines: [
        { label: 'shared', stroke: '#59a14f' },
        { label: 'sharing (saved)', stroke: '#2e7d32', fill: '#59a14f33' },
        { label: 'ksmd CPU', stroke: '#9c755f', scale: 'y2' },
      ],
    });
    this.guest = new Chart($('chart-guest'), {
      y: mib,
      yMin0: true,
      lines: [
        { label: 'size', stroke: '#4e79a7' },
        { label: 'available', stroke: '#59a14f' },
        { label: 'unused', stroke: '#8cbf6d', dash: [2, 2] },
        { label: 'cache', stroke: '#6ba3d0' },
        { label: 'floor', stroke: '#1d1f21', dash: [6, 3] },
        { label: 'ceiling', stroke: '#6b6f76', dash: [2, 4] },
      ],
    });
    this.paging = new Chart($('chart-paging'), {
      y: perSecond,
      yMin0: true,
      lines: [
        { label: 'swap in (pages/s)', stroke: '#f28e2b' },
        { label: 'swap out (pages/s)', stroke: '#e15759' },
        { label: 'major faults/s', stroke: '#76b7b2' },
      ],
    });
  }

  async start(): Promise<void> {
    let delay = 1000;
    for (;;) {
      const ctrl = new AbortController();
      try {
        await this.load();
        this.connection('live');
        delay = 1000;
        await this.api.stream((event, data) => this.onEvent({ event, data } as StreamEvent), ctrl.signal);
      } catch (err) {
        if (err instanceof Unauthorized) {
          forgetToken();
          return this.login(this.api.hasToken ? 'momd refused this token' : '');
        }
        console.warn('dashboard:', err);
      }
      ctrl.abort();
      this.connection('down');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  }

  private async load(): Promise<void> {
    const [status, timeline, rows, decisions] = await Promise.all([
      this.api.get<StatusView>('/v1/status'),
      this.api.get<TimelineView>(`/v1/timeline?after=${this.last}`),
      this.api.get<GuestRowView[]>('/v1/guests'),
      this.api.get<DecisionView[]>('/v1/decisions?limit=200'),
    ]);
    $('main').hidden = false;
    this.status(status);
    this.hostKeys = timeline.series.host.map((s) => s.key);
    this.guestKeys = timeline.series.guest.map((s) => s.key);
    this.capacity = timeline.capacity;
    if (this.last === -1 || timeline.t.length === 0 || timeline.last < this.last) {
      // A first load, or a momd that restarted: start over.
      this.t = [];
      this.host = this.hostKeys.map(() => []);
      this.decisions.clear();
      this.errors.clear();
      this.decisions.add(decisions);
      this.errors.add(status.recentErrors);
    }
    this.t.push(...timeline.t);
    timeline.host.forEach((col, i) => this.host[i]?.push(...col));
    this.last = timeline.last;
    this.trim();
    this.setRows(rows);
    this.drawHost();
    // The host's charts and the table show at once; the selected guest's history follows.
    const pick = this.selected ?? rows[0]?.name ?? null;
    if (pick !== null) void this.select(pick).catch((err: unknown) => console.warn('dashboard:', err));
  }

  private onEvent(e: StreamEvent): void {
    switch (e.event) {
      case 'timeline':
        return this.point(e.data);
      case 'cycle':
        this.cycle(e.data);
        return this.setRows(e.data.guestRows);
      case 'decision':
        return this.decisions.add([e.data]);
      case 'policy':
        if (!e.data.ok)
          this.errors.add([
            { time: new Date().toISOString(), kind: 'policy-rejected', code: null, message: e.data.errors },
          ]);
        void this.api.get<StatusView>('/v1/status').then((s) => this.status(s));
        return;
      case 'settings':
        $('dry-run').hidden = !e.data.dryRun;
        return;
    }
  }

  private point(p: TimelinePoint): void {
    if (p.seq <= this.last) return;
    this.last = p.seq;
    this.t.push(p.t);
    p.host.forEach((v, i) => this.host[i]?.push(v));
    // Guests carry values only on the cycles that keep a guest point.
    const g = this.selected === null ? undefined : p.guests[this.selected];
    if (g !== undefined) {
      this.guestT.push(p.t);
      g.forEach((v, i) => this.guestCols[i]?.push(v));
    }
    this.trim();
    this.drawHost();
    this.drawGuest();
  }

  private cycle(c: CycleView): void {
    $('cycle').textContent = `${clock(c.time)} · ${c.durationMs.toFixed(1)} ms · ${c.status}${this.period()}`;
    $('cycle').dataset['at'] = String(c.at);
    $('guest-count').textContent = String(c.guests);
    $('dry-run').hidden = !c.dryRun;
    if (c.status === 'policy-error' && c.detail !== null)
      this.errors.add([{ time: c.time, kind: 'evaluation', code: null, message: c.detail }]);
  }

  private period(): string {
    const n = this.t.length;
    if (n < 2) return '';
    const s = ((this.t[n - 1] ?? 0) - (this.t[n - 2] ?? 0)) / 1000;
    return ` · every ${s.toFixed(s < 10 ? 1 : 0)} s`;
  }

  private status(s: StatusView): void {
    const b = s.backend;
    $('backend').textContent = Object.entries(b)
      .map(([k, v]) => (k === 'hypervisor' ? String(v) : `${k} ${String(v)}`))
      .join(', ');
    $('policy').textContent =
      s.policy === null
        ? 'none'
        : `${s.policy.files.map((f) => f.split('/').pop()).join(', ')} (${s.policy.hash.slice(0, 8)}, ${s.policy.origin})`;
    $('policy').title = s.policy?.files.join('\n') ?? '';
    $('dry-run').hidden = !s.dryRun;
    $('fallback').hidden = s.policyFallback === null;
    $('contention').hidden = s.contention === null;
    if (s.lastCycle !== null) this.cycle(s.lastCycle);
    if (b['hypervisor'] === 'recording') this.connection('recording');
  }

  private setRows(rows: readonly GuestRowView[]): void {
    this.rows = rows;
    this.table.set(rows, this.selected);
    if (this.selected !== null) this.drawGuest();
  }

  private async select(name: string): Promise<void> {
    this.selected = name;
    $('guest-name').textContent = name;
    $('guest-name-2').textContent = name;
    this.table.set(this.rows, name);
    const v = await this.api.get<TimelineView>(`/v1/timeline?guests=${encodeURIComponent(name)}`);
    if (this.selected !== name) return;
    this.guestT = [...v.guestT];
    this.guestCols = this.guestKeys.map((_k, i) => [...(v.guests[name]?.[i] ?? v.guestT.map(() => null))]);
    this.guestCapacity = v.guestCapacity;
    this.drawGuest();
  }

  private trim(): void {
    const over = this.t.length - this.capacity;
    if (over > 0) {
      this.t.splice(0, over);
      for (const c of this.host) c.splice(0, over);
    }
    const gover = this.guestT.length - this.guestCapacity;
    if (gover > 0) {
      this.guestT.splice(0, gover);
      for (const c of this.guestCols) c.splice(0, gover);
    }
  }

  private col(key: string): Column {
    return this.host[this.hostKeys.indexOf(key)] ?? this.t.map(() => null);
  }

  private hostValue(key: string, i: number): number | null {
    return this.col(key)[i] ?? null;
  }

  private drawHost(): void {
    const x = this.t.map((t) => t / 1000);
    const used = this.col('mem_used');
    const cache = this.col('mem_cached');
    const free = this.col('mem_unused');
    const swap = this.col('swap_usage');
    // Stacked: each band is drawn up to the sum of those below it and itself.
    const s1 = used;
    const s2 = sum(s1, cache);
    const s3 = sum(s2, free);
    const s4 = sum(s3, swap);
    this.memory.update([x, s4, s3, s2, s1, this.col('mem_total')] as uPlot.AlignedData);
    this.psi.update([x, this.col('psi_some_avg10'), this.col('psi_full_avg10')] as uPlot.AlignedData);
    const toKib = (c: Column): Column => c.map((v) => (v === null ? null : v * 4));
    this.ksm.update([
      x,
      toKib(this.col('ksm_pages_shared')),
      toKib(this.col('ksm_pages_sharing')),
      this.col('ksmd_cpu_usage'),
    ] as uPlot.AlignedData);
  }

  private drawGuest(): void {
    const x = this.guestT.map((t) => t / 1000);
    const c = (key: string): Column => this.guestCols[this.guestKeys.indexOf(key)] ?? x.map(() => null);
    const row = this.rows.find((r) => r.name === this.selected);
    const flat = (v: number | null | undefined): Column => x.map(() => v ?? null);
    this.guest.update([
      x,
      c('balloon_cur'),
      c('mem_usable'),
      c('mem_unused'),
      c('mem_cache'),
      flat(row?.floorKib),
      flat(row?.ceilingKib),
    ] as uPlot.AlignedData);
    this.paging.update([
      x,
      c('swap_in_rate'),
      c('swap_out_rate'),
      c('major_fault_rate'),
    ] as uPlot.AlignedData);
  }

  private connection(state: 'live' | 'down' | 'recording'): void {
    const el = $('conn');
    if (el.dataset['state'] === 'recording') return;
    el.dataset['state'] = state;
    el.textContent = state === 'down' ? 'reconnecting' : state;
  }

  login(message: string): void {
    $('main').hidden = true;
    this.connection('down');
    $('conn').textContent = 'no access';
    const form = $('login') as HTMLFormElement;
    form.hidden = false;
    $('login-error').textContent = message;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      saveToken(($('token') as HTMLInputElement).value.trim());
      location.reload();
    });
  }
}

function sum(a: Column, b: Column): Column {
  return a.map((v, i) => (v === null ? null : v + (b[i] ?? 0)));
}

const token = takeToken();
const dashboard = new Dashboard(token);
void dashboard.start();
