// The administrator's contention hook (contention-hook): run when a contention episode starts and
// when it ends, and when the pause step pauses a guest, resumes it or finds it gone, without a
// shell, with the facts in its environment and as JSON on its stdin. It gets 30 s; its exit
// status and the start of its output are logged. A hook that cannot start, fails or overruns is a
// warning: momd itself goes on.
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { EngineEventMap } from '../engine/events.js';

export const HOOK_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 4096;

export interface HookResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly output: string;
  readonly error?: string;
}

/** What the hook is run for: an episode starting or ending, or a step of the pause. */
export type HookEvent = EngineEventMap['contention'] | EngineEventMap['pause'];

/** The facts of an event as the hook's environment variables (besides MOMD_CONTENTION). */
function factsOf(event: HookEvent): Record<string, string> {
  switch (event.change) {
    case 'started':
      return {
        MOMD_PSI_FULL: String(event.facts.psiFull),
        MOMD_GUESTS: event.facts.guests.map((g) => g.name).join(' '),
      };
    case 'ended':
      return { MOMD_DURATION_S: String(event.durationS) };
    case 'paused':
      return { MOMD_GUEST: event.guest, MOMD_REASON: event.reason };
    case 'resumed':
      return { MOMD_GUEST: event.guest, MOMD_PAUSED_S: String(event.pausedS), MOMD_REASON: event.reason };
    case 'gone':
      return { MOMD_GUEST: event.guest };
  }
}

/** Runs the hook for one event; resolves when it has ended (or was killed). */
export function runContentionHook(
  command: string,
  event: HookEvent,
  timeoutMs = HOOK_TIMEOUT_MS,
): Promise<HookResult> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    MOMD_CONTENTION: event.change,
    ...factsOf(event),
  };
  return new Promise((resolve) => {
    let output = '';
    const keep = (chunk: Buffer): void => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8');
    };
    // Our own timer, not spawn's `timeout`, whose timer outlives a command that cannot start.
    const child = spawn(command, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.stdin.on('error', () => {}); // a hook that does not read its stdin
    child.stdin.end(JSON.stringify(event));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, output, error: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output: output.slice(0, OUTPUT_LIMIT).trimEnd() });
    });
  });
}

interface HookEvents {
  on(name: 'contention', l: (e: EngineEventMap['contention']) => void): () => void;
  on(name: 'pause', l: (e: EngineEventMap['pause']) => void): () => void;
}

/** Runs the hook on every contention and pause event and logs how it went. */
export function attachContentionHook(events: HookEvents, command: string, log: Logger): () => void {
  const run = (e: HookEvent): void => {
    void runContentionHook(command, e).then((r) => {
      const fields = {
        hook: command,
        contention: e.change,
        exit: r.code,
        signal: r.signal,
        output: r.output,
      };
      if (r.error !== undefined)
        log.warn(
          { ...fields, code: 'MOM_W_HOOK', err: r.error },
          `contention hook ${command} could not run: ${r.error}`,
        );
      else if (r.code === 0) log.info(fields, `contention hook ${command} done (${e.change})`);
      else
        log.warn(
          { ...fields, code: 'MOM_W_HOOK' },
          `contention hook ${command} ${r.signal !== null ? `stopped by ${r.signal} (over ${HOOK_TIMEOUT_MS / 1000} s?)` : `exited with ${r.code}`}${r.output ? `: ${r.output.split('\n')[0]}` : ''}`,
        );
    });
  };
  const offContention = events.on('contention', run);
  const offPause = events.on('pause', run);
  return () => {
    offContention();
    offPause();
  };
}
