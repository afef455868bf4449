import { createSignal } from "solid-js";
import { api, ApiFailure, json } from "./api.ts";
import { early } from "./early.ts";
import { isNetworkError } from "./media.ts";
import { load, save } from "./storage.ts";

export type User = { id: string; login: string; name?: string; avatarUrl?: string };

// undefined: not known yet; null: signed out. A cached user paints the app at once, offline too.
const [user, setUser] = createSignal<User | null | undefined>(load<User>("user"));
export { user };

export async function checkSession(): Promise<void> {
  try {
    const body = await json<{ user: User }>(early("me") ?? api.api.me.$get());
    save("user", body.user);
    setUser(body.user);
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) return signedOut();
    if (isNetworkError(err) && user() !== undefined) return;
    setUser(user() ?? null);
  }
}

const onSignOut: Array<() => void> = [];
/** For stores holding the user's data in memory (kept out of this module to avoid an import cycle). */
export const whenSignedOut = (fn: () => void) => void onSignOut.push(fn);

/** Any 401 from the API lands here: forget the cached identity and show the sign-in screen. */
export function signedOut(): void {
  save("user", undefined);
  for (const fn of onSignOut) fn();
  setUser(null);
}

/** True when `err` was a 401 and the app has switched to the sign-in screen. */
export function handleUnauthorized(err: unknown): boolean {
  if (!(err instanceof ApiFailure) || err.status !== 401) return false;
  signedOut();
  return true;
}

export async function signOut(): Promise<void> {
  const res = await fetch("/auth/logout", { method: "POST" });
  if (!res.ok) throw new Error(`sign-out failed (${res.status})`);
  signedOut();
}

/** `/auth/dev` sets the session cookie and redirects; 404 when the server has it off. */
export async function signInLocally(): Promise<string | undefined> {
  const res = await fetch("/auth/dev").catch(() => undefined);
  if (!res) return "you are offline";
  if (res.status === 404) return "local sign-in is off on this server (DEV_LOGIN)";
  if (!res.ok) return ((await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined)?.error?.message ?? `sign-in failed (${res.status})`;
  await checkSession();
  return user() ? undefined : "signed in, but the session did not stick (cookies blocked?)";
}
