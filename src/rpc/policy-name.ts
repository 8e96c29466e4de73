// Names of named policies (setNamedPolicy): a name is the file NAME.policy in the policy
// directory, so it must stay a plain file name there. Letters, digits, '_', '-' and '.', not
// starting with '.' (no '..', no hidden files), at most 100 characters: no '/', no NUL, no way out.
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/;

/** Null when the name is acceptable, else why not (for the client's Fault). */
export function policyNameProblem(name: string): string | null {
  if (name === '') return 'a policy name cannot be empty';
  if (name.includes('\0')) return 'a policy name cannot contain NUL';
  if (name.includes('/') || name.includes('\\')) return `policy name '${name}' contains a slash`;
  if (name.startsWith('.')) return `policy name '${name}' starts with '.'`;
  if (!NAME.test(name))
    return `policy name '${name.slice(0, 120)}' must be 1..100 of letters, digits, '_', '-' and '.'`;
  return null;
}

/** The policy name of a policy file: its base name without `.policy` (MOM names them so). */
export function policyNameOf(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  return base.endsWith('.policy') ? base.slice(0, -'.policy'.length) : base;
}
