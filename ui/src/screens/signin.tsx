import { createResource, createSignal, Show } from "solid-js";
import { signInLocally } from "../lib/session.ts";
import "./signin.css";

const CALLBACK_ERRORS: Record<string, string> = {
  not_allowed: "That GitHub account is not allowed on this ocweb. Ask the owner to add your login to ALLOWED_GITHUB_USERS.",
  github_denied: "GitHub sign-in was not completed.",
  bad_state: "The sign-in took too long or was started elsewhere: try again.",
};

/** GitHub answers 503 on /auth/github when this server has no OAuth app (a redirect means it is ready). */
async function githubReady(): Promise<boolean> {
  const res = await fetch("/auth/github", { redirect: "manual" }).catch(() => undefined);
  return !res || res.type === "opaqueredirect" || res.status < 400;
}

export function SignIn() {
  const [github] = createResource(githubReady);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal(CALLBACK_ERRORS[new URLSearchParams(location.search).get("error") ?? ""]);
  const local = async () => {
    setBusy(true);
    setError(await signInLocally());
    setBusy(false);
  };
  return (
    <main class="signin">
      <h1 class="signin-brand">ocweb</h1>
      <p class="muted">Your coding agent, from your phone.</p>
      <Show when={error()}>
        <p class="notice bad" role="alert">{error()}</p>
      </Show>
      <a class="button primary wide" href="/auth/github" rel="external" aria-disabled={github() === false ? "true" : undefined}>
        Sign in with GitHub
      </a>
      <Show when={github() === false}>
        <p class="muted small">GitHub sign-in is not configured on this server (GITHUB_CLIENT_ID).</p>
      </Show>
      <button class="wide" type="button" disabled={busy()} onClick={() => void local()}>
        {busy() ? "Signing in…" : "Sign in locally"}
      </button>
      <p class="muted small">Local sign-in works only on this machine, when the server runs with DEV_LOGIN=1.</p>
    </main>
  );
}
