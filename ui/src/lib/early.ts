type Early = { me?: Promise<Response>; chats?: Promise<Response> };

/**
 * A request index.html started before the app's code arrived, handed over once; later calls (and
 * pages where it was not started) get undefined and ask again themselves.
 */
export function early(name: keyof Early): Promise<Response> | undefined {
  const store = (window as { __early?: Early }).__early;
  const started = store?.[name];
  if (store) store[name] = undefined;
  return started;
}
