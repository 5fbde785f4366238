/** Every problem with an environment name, as messages; empty when it is valid. */
export function nameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length === 0) problems.push('the name is empty');
  else {
    if (name.length > MAX_NAME) problems.push(`it is longer than ${MAX_NAME} characters`);
    if (!DNS_LABEL.test(name)) {
      problems.push('it must consist of lower-case letters, digits and "-", and start and end with a letter or digit');
    }
  }
  return problems.map((p) => `invalid environment name "${name}": ${p}`);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Leaves room for the suffixes of the environment's other objects (`-data`, `-usage-...`).
const MAX_NAME = 50;
