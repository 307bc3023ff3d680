type Required<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] };
type Optional<T> = {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** obj without its undefined members: optional fields absent, as exactOptionalPropertyTypes wants. */
export function compact<T extends Record<string, unknown>>(obj: T): Required<T> & Optional<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) if (value !== undefined) out[key] = value;
  return out as Required<T> & Optional<T>;
}
