import { Route, Router } from "@solidjs/router";
import { lazy } from "solid-js";
// Home is in the first chunk: it paints from cache at once (and is the laptop's left pane anyway).
import ChatList from "./screens/chat-list.tsx";
import { Shell } from "./screens/shell.tsx";

const NewChat = lazy(() => import("./screens/new-chat.tsx"));
const ChatScreen = lazy(() => import("./chat/chat-screen.tsx"));
const BoxScreen = lazy(() => import("./screens/box.tsx"));
const Settings = lazy(() => import("./screens/settings.tsx"));
const Schedules = lazy(() => import("./screens/schedules.tsx"));
const AttemptGroup = lazy(() => import("./screens/attempt-group.tsx"));
const Share = lazy(() => import("./screens/share.tsx"));

/** Routes: the list is home; /chats/:id is the deep link notifications open. */
export function App() {
  return (
    <Router root={Shell}>
      <Route path="/" component={ChatList} />
      <Route path="/new" component={NewChat} />
      <Route path="/chats/:id" component={ChatScreen} />
      <Route path="/box" component={BoxScreen} />
      <Route path="/settings" component={Settings} />
      <Route path="/schedules" component={Schedules} />
      <Route path="/groups/:id" component={AttemptGroup} />
      <Route path="/share" component={Share} />
    </Router>
  );
}
