/**
 * Remembers a pure function's result per argument object. One generation asks for the same build
 * several times (the overlay, the secrets checksums, the Argo CD project); results are never mutated.
 */
export function memoizedByObject<A extends object, R>(fn: (arg: A) => R): (arg: A) => R {
  const results = new WeakMap<A, R>();
  return (arg) => {
    if (!results.has(arg)) results.set(arg, fn(arg));
    return results.get(arg)!;
  };
}
