// Policy diagnostics as data: every lexer, parser, checker and evaluator problem is a PolicyError
// with a stable code and a span. Nothing in src/policy prints; callers format with formatDiagnostic().
import type { Span } from './ast.js';

export type PolicyErrorCode =
  | 'MOM_E_POLICY_LEX'
  | 'MOM_E_POLICY_SYNTAX'
  | 'MOM_E_POLICY_STATIC'
  | 'MOM_E_POLICY_EVAL'
  | 'MOM_E_POLICY_BUDGET';

export type Severity = 'error' | 'warning';

export class PolicyError extends Error {
  constructor(
    readonly code: PolicyErrorCode,
    message: string,
    readonly span: Span,
    readonly severity: Severity = 'error',
  ) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** `file:line:col: error: message`: one line, as `momctl` and the daemon's log print it. */
export function formatDiagnostic(err: PolicyError): string {
  const { file, line, col } = err.span;
  return `${file}:${line}:${col}: ${err.severity}: ${err.message}`;
}
