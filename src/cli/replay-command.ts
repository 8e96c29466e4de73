// `momctl replay DIR`: re-evaluates a recording (momd --record, [main] record-dir) under another
// policy set and reports, per guest, what it would have done differently (src/record/replay.ts
// defines the numbers). A table by default, JSON with --json. Exit 1 on a bad time, a folder that
// holds no recording, a malformed recording line (FILE:LINE) or a policy that does not parse
// (FILE:LINE:COL, as `momctl policy check` prints it); 2 on a usage error.
import { InvalidArgumentError, type Command } from 'commander';
import { PolicyEngine } from '../engine/policy-engine.js';
import { formatErrors, PolicyError } from '../policy/index.js';
import { readPolicySources } from '../policy/sources.js';
import { readRecording, RecordingError } from '../record/reader.js';
import { replayRecording, type ReplayReport } from '../record/replay.js';
import { SHIPPED_POLICIES } from './paths.js';
import { UserError, type Io } from './policy-command.js';
import { mib, table } from './tables.js';

interface ReplayOpts {
  policy?: string[];
  from?: string;
  to?: string;
  top: number;
  json?: boolean;
}

export function registerReplayCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('replay')
    .description(
      'replay a recording (momd --record DIR) under another policy set and compare what each would have done',
    )
    .argument('<dir>', 'the recording folder (record-dir)')
    .option(
      '--policy <files...>',
      'policy files or directories to replay (default: the shipped default policy)',
    )
    .option(
      '--from <time>',
      'first cycle: an ISO time (2026-12-03T20:00Z) or a time ago (-90s, -30m, -1h, -2d)',
    )
    .option('--to <time>', 'last cycle: as --from')
    .option('--top <n>', 'largest differences shown per entity', parseCount, 3)
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, opts: ReplayOpts) => {
      try {
        io.out(await replayCommand(dir, opts, (m) => io.err(`momctl replay: ${m}`)));
      } catch (err) {
        if (err instanceof PolicyError) io.err(formatErrors([err]));
        else if (err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError))
          io.err(`momctl replay: ${err.message}`);
        else throw err;
        setExit(1);
      }
    });
}

async function replayCommand(dir: string, opts: ReplayOpts, warn: (m: string) => void): Promise<string> {
  const now = new Date();
  const from = opts.from === undefined ? undefined : parseTime(opts.from, '--from', now);
  const to = opts.to === undefined ? undefined : parseTime(opts.to, '--to', now);
  if (from !== undefined && to !== undefined && from > to)
    throw new UserError(`--from ${opts.from} is after --to ${opts.to}`);
  const files = opts.policy ?? [SHIPPED_POLICIES.default];
  const engine = new PolicyEngine(
    () => {},
    () => false,
  );
  const loaded = engine.load(readPolicySources(files));
  if (!loaded.ok) throw new UserError(formatErrors(loaded.errors));
  const entries = readRecording(dir, {
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    onWarning: (w) => warn(w.message),
  });
  const report = await replayRecording(entries, engine, { top: opts.top });
  if (report.cycles === 0) {
    const range =
      from !== undefined || to !== undefined
        ? ` between ${from?.toISOString() ?? 'the start'} and ${to?.toISOString() ?? 'the end'}`
        : '';
    throw new RecordingError(`${dir}: no recorded policy cycle${range} to replay`);
  }
  if (opts.json === true) return JSON.stringify({ policy: loaded.files, ...report }, null, 2);
  return replayText(report, loaded.files);
}

/**
 * A time for --from/--to: an ISO 8601 date or date and time (UTC unless it says otherwise), or a
 * time ago: -N followed by s, m, h or d. Throws UserError naming the option.
 */
export function parseTime(text: string, option: string, now: Date): Date {
  const ago = /^-(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (ago !== null) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[ago[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(ago[1]) * unit * 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const t = Date.parse(text.trim());
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new UserError(
    `${option} '${text}': expected an ISO time (2026-12-03, 2026-12-03T20:00Z, 2026-12-03T21:00+01:00) or a time ago (-90s, -30m, -1h, -2d)`,
  );
}

/** The report as text: a summary, one row per entity, then the largest differences. */
export function replayText(r: ReplayReport, policyFiles: readonly string[]): string {
  const memory = (control: string): boolean => control === 'balloon_target' || control === 'mem_limit';
  const value = (control: string, v: number | null): string =>
    v === null ? '-' : memory(control) ? `${mib(v)} MiB` : String(v);
  const lines = [
    `replayed ${r.cycles} cycles from ${r.from} to ${r.to}${r.skipped > 0 ? ` (${r.skipped} skipped cycles passed over)` : ''}`,
    `recorded policy: ${r.recordedPolicies.length === 0 ? 'unknown' : r.recordedPolicies.map((h) => `sha256 ${h.slice(0, 12)}`).join(', then ')}${r.recordedErrors > 0 ? ` (failed in ${r.recordedErrors} cycles)` : ''}`,
    `replayed policy: ${policyFiles.join(', ')}${r.replayErrors.cycles > 0 ? ` (failed in ${r.replayErrors.cycles} cycles; first: ${r.replayErrors.first})` : ''}`,
    'open loop: the recorded statistics follow the recorded decisions, not the replayed ones',
    '',
    table([
      ['ENTITY', 'CYCLES', 'RECLAIMED MiB RECORDED', 'REPLAYED', 'ACTIONS RECORDED', 'REPLAYED'],
      ...r.entities.map((e) => [
        e.entity,
        String(e.cycles),
        e.entity === 'host' ? '-' : mib(e.reclaimedKib.recorded),
        e.entity === 'host' ? '-' : mib(e.reclaimedKib.replayed),
        String(e.actions.recorded),
        String(e.actions.replayed),
      ]),
    ]),
  ];
  const diffs = r.entities.flatMap((e) => e.differences.map((d) => ({ entity: e.entity, ...d })));
  lines.push('');
  if (diffs.length === 0) lines.push('no differences: both policies asked for the same controls');
  else
    lines.push(
      'largest differences (a control not set is left at its current value):',
      table([
        ['ENTITY', 'TIME', 'CONTROL', 'CURRENT', 'RECORDED', 'REPLAYED'],
        ...diffs.map((d) => [
          d.entity,
          d.time,
          d.control,
          value(d.control, d.current),
          value(d.control, d.recorded),
          value(d.control, d.replayed),
        ]),
      ]),
    );
  return lines.join('\n');
}

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected an integer >= 0, got '${text}'`);
  return n;
}
