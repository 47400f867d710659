/**
 * Go's encoding/json key matching, for the TCP form (SPEC §3.2). Go maps each JSON key, in
 * document order, to a struct field: the field whose name equals the key exactly if there
 * is one, otherwise the field whose name is equal under Unicode case folding. Every key
 * that maps to a field is decoded into it, so when several keys map to the same field
 * ("Host" and "host"), the LAST one in the document wins — Go has no "exact match beats a
 * later fold match" rule between keys, only between fields (our structs have no two field
 * names that differ only by case). A repeated object field (two "Tags" keys) is replaced
 * here, where Go would merge the two objects; no client sends that.
 *
 * Go folds each rune to the smallest rune of its unicode.SimpleFold orbit. Our field names
 * are ASCII, so only runes whose orbit holds an ASCII letter can matter: a-z/A-Z, plus
 * U+017F "ſ" (orbit S, s, ſ) and U+212A Kelvin sign (orbit K, k, K). So "ſeed" matches
 * "Seed" as in Go, while "ıd" (dotless i) does not match "Id" (its orbit is itself).
 */

/** Go's fold key for matching against ASCII field names (see above). */
export function goFold(name: string): string {
  return name.replace(/[a-z\u017f\u212a]/g, (c) =>
    c === '\u017f' ? 'S' : c === '\u212a' ? 'K' : c.toUpperCase(),
  );
}

/** A struct's field names, and the same names by fold: built once per names list. */
interface FieldIndex {
  exact: Set<string>;
  byFold: Map<string, string>;
}

const indexes = new WeakMap<readonly string[], FieldIndex>();

function indexOf(names: readonly string[]): FieldIndex {
  let index = indexes.get(names);
  if (!index) {
    index = { exact: new Set(names), byFold: new Map(names.map((n) => [goFold(n), n])) };
    indexes.set(names, index);
  }
  return index;
}

/**
 * Picks the Go struct fields `names` out of a decoded JSON object: for each field name, the
 * value of the last key that matches it exactly or by fold (see above); absent → missing.
 * The names' folds are computed once per list (folding them on every call was ~2 µs of the
 * TCP batcher's ~25 µs per record).
 */
export function goFields<N extends string>(
  obj: Record<string, unknown>,
  names: readonly N[],
): Partial<Record<N, unknown>> {
  const { exact, byFold } = indexOf(names);
  const out: Partial<Record<N, unknown>> = {};
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const field = (exact.has(key) ? key : byFold.get(goFold(key))) as N | undefined;
    if (field !== undefined) out[field] = obj[key];
  }
  return out;
}
