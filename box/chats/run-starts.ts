/**
 * Sends not yet confirmed by opencode. After prompt_async returns, opencode can take seconds under
 * load to mark the session busy; until then its status reads idle, which must not end the run.
 */
export class RunStarts {
  private sentAt = new Map<string, number>();
  private abortEarly = new Set<string>();

  constructor(private maxWaitMs = 60_000) {}

  sent(chatId: string) {
    this.sentAt.set(chatId, Date.now());
    this.abortEarly.delete(chatId);
  }

  /** true when the run that just started was aborted before opencode began it (abort it again). */
  started(chatId: string): boolean {
    this.sentAt.delete(chatId);
    return this.abortEarly.delete(chatId);
  }

  /**
   * An abort opencode accepts before its run loop starts is lost (the run then plays to the end),
   * so an abort of an unconfirmed send is repeated once the run starts.
   */
  abortRequested(chatId: string) {
    if (this.pending(chatId)) this.abortEarly.add(chatId);
  }

  /** True while a send is unconfirmed and recent enough that an idle reading means "not yet". */
  pending(chatId: string): boolean {
    const at = this.sentAt.get(chatId);
    if (at === undefined) return false;
    if (Date.now() - at < this.maxWaitMs) return true;
    this.sentAt.delete(chatId); // never started: let the idle reading end it
    return false;
  }

  clear() {
    this.sentAt.clear();
    this.abortEarly.clear();
  }
}
