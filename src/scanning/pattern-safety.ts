/**
 * Checks an operator-supplied regex source before it runs over every response. JavaScript
 * regexes backtrack and cannot be interrupted, so a pattern with nested quantifiers such as
 * `(a+)+$` can stall the gateway on a crafted input. This is a conservative syntactic check
 * (the "star height" test of safe-regex), not a proof: it rejects the shapes that cause
 * exponential backtracking and backreferences, and leaves overlapping alternations to review.
 *
 * @returns a reason to reject the source, or null when it passes.
 */
export function unsafePatternReason(source: string): string | null {
  // Each open group: did anything inside it repeat?
  const stack: boolean[] = [false];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'backreferences are not allowed';
      i++;
      continue;
    }
    if (c === '[') {
      // A character class: skip to its closing bracket (escapes inside are literal).
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      continue;
    }
    if (c === '(') {
      stack.push(false);
      if (source[i + 1] === '?') {
        // (?: (?= (?! (?<= (?<! (?<name>: skip the group's type so its `?` is not a quantifier.
        i++;
        if (source[i + 1] === '<' && source[i + 2] !== '=' && source[i + 2] !== '!') {
          const close = source.indexOf('>', i);
          i = close < 0 ? source.length : close;
        } else {
          i += source[i + 1] === '<' ? 2 : 1;
        }
      }
      continue;
    }
    if (c === ')') {
      const innerRepeats = stack.pop() ?? false;
      if (stack.length === 0) return 'unbalanced parenthesis';
      const repeated = repeatsAt(source, i + 1);
      if (repeated && innerRepeats) return 'nested quantifiers (a repeated group that itself repeats) can backtrack exponentially';
      if (repeated || innerRepeats) stack[stack.length - 1] = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '{') stack[stack.length - 1] = true;
  }
  return null;
}

/** True when a quantifier that allows more than one repetition starts at `i`. */
function repeatsAt(source: string, i: number): boolean {
  const c = source[i];
  if (c === '*' || c === '+') return true;
  if (c !== '{') return false;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
  if (!m) return false;
  if (m[2] === undefined) return Number(m[1]) > 1;
  return m[3] === '' || Number(m[3]) > 1;
}
