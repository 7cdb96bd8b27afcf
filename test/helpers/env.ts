/** Setting process.env for one test file, in-process functions read their settings from it as on Lambda. */

/** Sets `values` in process.env; the returned function puts each of those variables back as it was (unset stays unset). */
export function setEnv(values: Readonly<Record<string, string>>): () => void {
  const before = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  Object.assign(process.env, values);
  return () => {
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
