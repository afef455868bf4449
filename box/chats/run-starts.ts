/**
 * Sends not yet confirmed by opencode. After prompt_async returns, opencode can take seconds under
 * load to mark the session busy; until then its status reads idle, which must not end the run.
 */
export class RunStarts {
  private sentAt = new Map<string, number>();

  constructor(private maxWaitMs = 60_000) {}

  sent(chatId: string) {
    this.sentAt.set(chatId, Date.now());
  }

  started(chatId: string) {
    this.sentAt.delete(chatId);
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
  }
}
