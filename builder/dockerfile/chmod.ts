// Validation of COPY/ADD --chmod: octal ("755", "0644") or symbolic ("u+x,g=r").

const OCTAL = /^[0-7]{1,4}$/;
const SYMBOLIC_CLAUSE = /^[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+$/;

export function isValidChmod(mode: string): boolean {
  return OCTAL.test(mode) || mode.split(",").every((clause) => SYMBOLIC_CLAUSE.test(clause));
}
