// Runs libvirt's command-line client, `virsh -c <uri> ARGS`, for the libvirt backend (index.ts),
// and turns its failures into HypervisorError codes. Always execFile with an argument vector,
// never a shell, so a domain name can hold any character without being interpreted.
import { execFile } from 'node:child_process';
import { HypervisorError } from '../hypervisor.js';

/**
 * Runs virsh with `args` (everything after `-c <uri>`) and resolves to its stdout. Rejects with a
 * HypervisorError, or with `signal.reason` when the caller aborted. Tests inject a fake.
 */
export type VirshRunner = (args: string[], signal?: AbortSignal) => Promise<string>;

export interface VirshRunnerOptions {
  /** The libvirt connection URI, e.g. qemu:///system. */
  uri: string;
  /** Milliseconds before a call is abandoned (its process killed): HypervisorError('MOM_E_TIMEOUT'). */
  timeoutMs: number;
  /** The virsh executable (default 'virsh', found on PATH). */
  binary?: string;
}

/** Output larger than this is an error (about 500 bytes per domain: room for 100,000 domains). */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export function createVirshRunner(opts: VirshRunnerOptions): VirshRunner {
  const binary = opts.binary ?? 'virsh';
  return (args, signal) =>
    new Promise<string>((resolve, reject) => {
      const argv = ['-c', opts.uri, ...args];
      execFile(
        binary,
        argv,
        {
          encoding: 'utf8',
          timeout: opts.timeoutMs,
          // virsh is only a client: killing it outright is safe, and nothing it traps can delay it.
          killSignal: 'SIGKILL',
          maxBuffer: MAX_OUTPUT_BYTES,
          signal,
          // libvirt translates its messages; the classification below needs the English ones.
          env: { ...process.env, LC_ALL: 'C', LANG: 'C', LANGUAGE: 'C' },
          windowsHide: true,
        },
        (err, stdout, stderr) => {
          if (err === null) {
            resolve(stdout);
            return;
          }
          if (signal?.aborted) {
            reject(signal.reason);
            return;
          }
          const command = `virsh ${args.join(' ')}`;
          const failure = err as NodeJS.ErrnoException & { killed?: boolean };
          if (failure.code === 'ENOENT') {
            reject(
              new HypervisorError(
                'MOM_E_TRANSPORT',
                `cannot run ${binary}: not found (install libvirt-clients)`,
              ),
            );
          } else if (failure.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
            // Checked before `killed`: Node kills the child for this too.
            reject(
              new HypervisorError(
                'MOM_E_TRANSPORT',
                `${command}: output larger than ${MAX_OUTPUT_BYTES} bytes`,
              ),
            );
          } else if (failure.killed === true) {
            reject(new HypervisorError('MOM_E_TIMEOUT', `${command}: no answer within ${opts.timeoutMs} ms`));
          } else {
            reject(classifyVirshFailure(command, stderr === '' ? failure.message : stderr));
          }
        },
      );
    });
}

/** Patterns of virsh's stderr, first match wins. Messages seen from virsh 9.0 are in the tests. */
const FAILURES: ReadonlyArray<{ pattern: RegExp; code: HypervisorError['code'] }> = [
  // `failed to get domain 'x'` (lookup by name or uuid), `Domain not found: no domain with
  // matching uuid ...` (it vanished during the call), `Requested operation is not valid: domain
  // is not running` (it is shutting off).
  {
    pattern: /domain not found|no domain with matching|failed to get domain|domain is not running/i,
    code: 'MOM_E_GUEST_GONE',
  },
  // libvirtd is down or unreachable: `failed to connect to the hypervisor`, or a lost connection.
  {
    pattern: /failed to connect to the hypervisor|end of file while reading data|connection reset/i,
    code: 'MOM_E_TRANSPORT',
  },
  // libvirt's own job timeout: another job (a migration, a hung QEMU monitor) holds the domain.
  { pattern: /timed out during operation/i, code: 'MOM_E_TIMEOUT' },
  // A tuning value libvirt or QEMU refuses (schedinfo, blkdeviotune), or a disk the domain lacks.
  {
    pattern: /cannot be set at the same time|is out of range|not found in (the )?domain/i,
    code: 'MOM_E_INVALID_ARGUMENT',
  },
];

/**
 * The HypervisorError for a virsh call that exited non-zero with `stderr`: 'MOM_E_GUEST_GONE' when the
 * domain does not exist or no longer runs, 'MOM_E_TIMEOUT' for libvirt's job timeout, otherwise
 * 'MOM_E_TRANSPORT'. The message keeps virsh's own words (its `error: ` prefixes dropped).
 */
export function classifyVirshFailure(command: string, stderr: string): HypervisorError {
  const text = stderr
    .split('\n')
    .map((line) => line.trim().replace(/^error:\s*/, ''))
    .filter((line) => line !== '')
    .join('; ');
  const code = FAILURES.find((f) => f.pattern.test(text))?.code ?? 'MOM_E_TRANSPORT';
  const detail = text === '' ? 'failed with no message' : text;
  if (code === 'MOM_E_TRANSPORT' && /failed to connect to the hypervisor/i.test(text)) {
    return new HypervisorError(code, `${command}: cannot reach libvirtd (is it running?): ${detail}`);
  }
  return new HypervisorError(code, `${command}: ${detail}`);
}
