import { type RouteSectionProps, useLocation } from "@solidjs/router";
import { createEffect, type JSX, Match, onMount, Show, Suspense, Switch } from "solid-js";
import { box, refreshChats, stale } from "../lib/chats-store.ts";
import { online, wide } from "../lib/media.ts";
import { startPolling } from "../lib/polling.ts";
import { checkSession, user } from "../lib/session.ts";
import { UpdatePrompt } from "../pwa.tsx";
import { ChatListView } from "./chat-list.tsx";
import { SignIn } from "./signin.tsx";
import "./shell.css";

/** The Router root: sign-in when there is no session, else the top bar, the banner and the page(s). */
export function Shell(props: RouteSectionProps) {
  onMount(() => {
    // First visit: ask for the list alongside the session instead of after it (a 401 shows sign-in either way).
    if (user() === undefined) void refreshChats();
    void checkSession();
  });
  return (
    <>
      <UpdatePrompt />
      <Switch>
      <Match when={user() === null}>
        <SignIn />
      </Match>
      <Match when={user()}>
        <Frame>{props.children}</Frame>
      </Match>
      </Switch>
    </>
  );
}

const TITLES: Record<string, string> = { "/": "Chats", "/new": "New chat", "/box": "Your box", "/settings": "Settings", "/schedules": "Schedules" };

function Frame(props: { children?: JSX.Element }) {
  const location = useLocation();
  const home = () => location.pathname === "/";
  const title = () => TITLES[location.pathname] ?? (location.pathname.startsWith("/groups/") ? "Attempts" : "");
  startPolling(() => wide() || home());
  createEffect(() => (document.title = title() ? `${title()} · ocweb` : "ocweb"));
  return (
    <div class="app">
      <header class="topbar">
        <Show when={home() || wide()} fallback={<a class="icon-button back" href="/" aria-label="Back to chats"><Icon path="M15 18l-6-6 6-6" /><span>Chats</span></a>}>
          <a class="brand" href="/" aria-label="ocweb, all chats">ocweb</a>
        </Show>
        <Show when={title() && !(wide() && home())}>
          <h1 class="topbar-title">{title()}</h1>
        </Show>
        <span class="spacer" />
        <a class="icon-button" href="/schedules" aria-label="Schedules" title="Schedules" aria-current={location.pathname === "/schedules" ? "page" : undefined}>
          <Icon path="M12 7v5l3 2M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z" />
        </a>
        <a class="icon-button" href="/box" aria-label="Your box" title="Your box" aria-current={location.pathname === "/box" ? "page" : undefined}>
          <Icon path="M4 4h16a1 1 0 0 1 1 1v5a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zM4 13h16a1 1 0 0 1 1 1v5a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1v-5a1 1 0 0 1 1-1zM7 7.5h.01M7 16.5h.01" />
        </a>
        <a class="icon-button" href="/settings" aria-label="Settings" title="Settings" aria-current={location.pathname === "/settings" ? "page" : undefined}>
          <Icon path={GEAR} />
        </a>
      </header>
      <Banner />
      <div class="panes">
        <Show when={wide()}>
          <aside class="list-pane" aria-label="Chats">
            <ChatListView />
          </aside>
        </Show>
        <main class="page">
          <Suspense>{props.children}</Suspense>
        </main>
      </div>
    </div>
  );
}

/** One line, the most important fact first: no network beats no box. */
function Banner() {
  return (
    <Switch>
      <Match when={!online() || stale()}>
        <p class="banner warn" role="status">you're offline — showing your saved chats; sends wait until you're back</p>
      </Match>
      <Match when={box() === "unreachable"}>
        <p class="banner warn" role="status">your box is offline — prompts will be queued</p>
      </Match>
    </Switch>
  );
}

export function Icon(props: { path: string }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d={props.path} />
    </svg>
  );
}

const GEAR =
  "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 1 1-4 0v-.09A1.65 1.65 0 0 0 9 19.4a1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06A1.65 1.65 0 0 0 4.68 15a1.65 1.65 0 0 0-1.51-1H3a2 2 0 1 1 0-4h.09A1.65 1.65 0 0 0 4.6 9a1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 2.83-2.83l.06.06A1.65 1.65 0 0 0 9 4.68a1.65 1.65 0 0 0 1-1.51V3a2 2 0 1 1 4 0v.09a1.65 1.65 0 0 0 1 1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06A1.65 1.65 0 0 0 19.4 9a1.65 1.65 0 0 0 1.51 1H21a2 2 0 1 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1z";
