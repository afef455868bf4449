import { type Accessor, createEffect, createSignal, on } from "solid-js";
import { handleUnauthorized } from "./session.ts";

export type Loaded<T> = {
  data: Accessor<T | undefined>;
  error: Accessor<Error | undefined>;
  loading: Accessor<boolean>;
  reload: () => void;
};

/**
 * Like createResource, but it never suspends (a search or a refresh keeps the page on screen) and
 * the answer to an older source value never overwrites a newer one. The last data stays while reloading.
 */
export function createLoad<S, T>(source: Accessor<S>, fetcher: (s: S) => Promise<T>): Loaded<T> {
  const [data, setData] = createSignal<T>();
  const [error, setError] = createSignal<Error>();
  const [loading, setLoading] = createSignal(false);
  let seq = 0;
  const run = async (s: S) => {
    const mine = ++seq;
    setLoading(true);
    try {
      const value = await fetcher(s);
      if (mine !== seq) return;
      setData(() => value);
      setError(undefined);
    } catch (err) {
      if (mine !== seq || handleUnauthorized(err)) return;
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      if (mine === seq) setLoading(false);
    }
  };
  createEffect(on(source, (s) => void run(s)));
  return { data, error, loading, reload: () => void run(source()) };
}
