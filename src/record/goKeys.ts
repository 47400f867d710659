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

/**
 * Picks the Go struct fields `names` out of a decoded JSON object: for each field name, the
 * value of the last key that matches it exactly or by fold (see above); absent → missing.
 */
export function goFields<N extends string>(
  obj: Record<string, unknown>,
  names: readonly N[],
): Partial<Record<N, unknown>> {
  const byFold = new Map<string, N>();
  for (const n of names) byFold.set(goFold(n), n);
  const out: Partial<Record<N, unknown>> = {};
  for (const key of Object.keys(obj)) {
    const field = (names as readonly string[]).includes(key) ? (key as N) : byFold.get(goFold(key));
    if (field !== undefined) out[field] = obj[key];
  }
  return out;
}
