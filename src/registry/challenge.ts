/*
 * `WWW-Authenticate` as registries send it (RFC 9110 §11.6.1): one or more
 * challenges, each a scheme and comma-separated `name=value` parameters whose
 * quoted values may hold commas, spaces and escaped quotes. Pure.
 */

export interface Challenge {
  /** Lowercase: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameter names lowercase, values unquoted. */
  params: Record<string, string>;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const SCHEME = new RegExp(`[\\s,]*(${TOKEN})`, 'y');
const PARAM = new RegExp(`[\\s,]*(${TOKEN})\\s*=\\s*("(?:[^"\\\\]|\\\\.)*"|[^\\s,="][^\\s,]*)`, 'y');
// An unquoted value never starts with `=`, so `abc==` is read as the token68 it is.
// A token68 (e.g. `Negotiate abc==`) in place of parameters: skipped, no registry uses it.
const TOKEN68 = /\s+[A-Za-z0-9._~+/-]+=*(?=\s*(,|$))/y;

export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let at = 0;
  while (at < header.length) {
    SCHEME.lastIndex = at;
    const scheme = SCHEME.exec(header);
    if (!scheme) break;
    at = SCHEME.lastIndex;
    const params: Record<string, string> = {};
    TOKEN68.lastIndex = at;
    if (!lookingAtParam(header, at) && TOKEN68.exec(header)) at = TOKEN68.lastIndex;
    for (;;) {
      PARAM.lastIndex = at;
      const param = PARAM.exec(header);
      if (!param) break;
      at = PARAM.lastIndex;
      params[(param[1] as string).toLowerCase()] = unquote(param[2] as string);
    }
    challenges.push({ scheme: (scheme[1] as string).toLowerCase(), params });
  }
  return challenges;
}

function lookingAtParam(header: string, at: number): boolean {
  PARAM.lastIndex = at;
  return PARAM.test(header);
}

function unquote(value: string): string {
  return value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}

/** The space-separated scopes a Bearer challenge asks for (`scope="a b"`). */
export function challengeScopes(challenge: Challenge): string[] {
  return (challenge.params.scope ?? '').split(' ').filter(Boolean);
}
