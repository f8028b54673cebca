/**
 * Records keyed by user-given names. `out[name] = x` with `name === "__proto__"` sets the
 * prototype instead of adding a key, so the key disappears; these helpers add own properties.
 *
 * @module
 */

/** Adds `key: value` to `record` as an own, enumerable property, whatever the key (`__proto__` too). */
export const setOwn = <A>(record: Record<string, A>, key: string, value: A): void => {
  Object.defineProperty(record, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
};

/** Whether `record` has `key` as an own property (`"constructor" in {}` is true; this is not). */
export const hasOwn = (record: object, key: string): boolean => Object.hasOwn(record, key);
