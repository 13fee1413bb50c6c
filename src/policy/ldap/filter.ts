// LDAP search filters from a configured template: {address}, {local} and {domain} are replaced
// by RFC 4515 escaped values, so no part of a mail address can change the filter's structure.
// Not a filter parser: the template is trusted configuration, the values are not.

/**
 * RFC 4515 section 3 escaping of an assertion value: the five characters the grammar forbids
 * unescaped (NUL, "(", ")", "*", "\") become \XX. Other UTF-8 text is allowed as is.
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\0()*\\]/g, (c) => "\\" + c.charCodeAt(0).toString(16).padStart(2, "0"));
}

export function renderFilter(template: string, address: string): string {
  const a = address.toLowerCase();
  const at = a.lastIndexOf("@");
  const values: Record<string, string> = {
    address: a,
    local: at < 0 ? a : a.slice(0, at),
    domain: at < 0 ? "" : a.slice(at + 1),
  };
  return template.replace(/\{(address|local|domain)\}/g, (_m, k: string) => escapeFilterValue(values[k]!));
}
