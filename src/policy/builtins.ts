// Built-in functions that MOM keeps in global variables rather than as forms, so a policy can
// pass them around: `(defvar f abs) (f -3)`.
import { absolute, nativeFunction, show, type PolicyFunction, type Value } from './values.js';

/** Where `debug` output goes; the daemon sends it to its log, momctl to stderr. */
export type DebugSink = (message: string) => void;

/**
 * `debug_enabled` says whether `debug` output goes anywhere (false in momd below verbosity debug),
 * so that a policy can skip working out what it would only have thrown away:
 * `(if debug_enabled (with Guests g (debug ...)) nil)`.
 */
export function builtinGlobals(debug: DebugSink, debugEnabled = true): Map<string, Value> {
  const abs: PolicyFunction = nativeFunction('abs', { min: 1, max: 1 }, ([x]) => absolute(x as Value));
  // MOM returns the last argument, so `(debug)` with none is an error there too.
  const debugFn: PolicyFunction = nativeFunction('debug', { min: 1, max: Infinity }, (args) => {
    debug(args.map(show).join(' '));
    return args[args.length - 1] as Value;
  });
  return new Map<string, Value>([
    ['abs', abs],
    ['debug', debugFn],
    ['debug_enabled', debugEnabled],
  ]);
}
