import { EventEmitter } from "node:events";
import type { GlobalEvent as SdkGlobalEvent } from "@opencode-ai/sdk/v2/client";
import { ocClient } from "./client.ts";

/** A `/global/event` frame as emitted: `directory` is "global" for global events (and absent on lifecycle frames). */
export type GlobalEvent = Omit<SdkGlobalEvent, "directory" | "payload"> & {
  directory?: string;
  payload: Exclude<SdkGlobalEvent["payload"], { type: "sync" } | { type: "server.connected" }>;
};

export type EventFollowerEvents = {
  connected: [];
  event: [GlobalEvent];
  disconnected: [];
};

export type EventFollowerOptions = {
  getTarget: () => { url: string; authHeader: string } | undefined;
  watchdogMs?: number;
  retryMs?: number;
};

const maxRetryMs = 5_000;
// opencode writes server.connected before it subscribes the stream to its bus, so an event published
// in that gap is lost (seen: 11 of 30 sessions created right after the frame). 'connected' waits this long.
const settleMs = 250;

/**
 * Follows opencode's `/global/event` forever (until stop): reconnects with backoff, aborts a stream that
 * sends nothing (heartbeats included) for watchdogMs, and emits 'connected' shortly after every
 * `server.connected` so the owner can re-sync (the stream has no replay). 'event' carries everything
 * else except `sync` mirrors and heartbeats; events may precede 'connected' by up to settleMs.
 */
export class EventFollower extends EventEmitter<EventFollowerEvents> {
  readonly #getTarget: EventFollowerOptions["getTarget"];
  readonly #watchdogMs: number;
  readonly #retryMs: number;
  #run = 0;
  #running = false;
  #connected = false;
  #abort: AbortController | undefined;
  #wake: (() => void) | undefined;

  constructor(opts: EventFollowerOptions) {
    super();
    this.#getTarget = opts.getTarget;
    this.#watchdogMs = opts.watchdogMs ?? 25_000;
    this.#retryMs = opts.retryMs ?? 500;
  }

  get connected(): boolean {
    return this.#connected;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#run += 1;
    void this.#loop(this.#run);
  }

  stop(): void {
    this.#running = false;
    this.#run += 1;
    this.#connected = false;
    this.#abort?.abort();
    this.#wake?.();
  }

  async #loop(run: number) {
    let delay = this.#retryMs;
    while (this.#run === run) {
      const sawConnected = await this.#follow(run);
      if (this.#run !== run) return;
      if (this.#connected) {
        this.#connected = false;
        try {
          this.emit("disconnected");
        } catch {
          // a listener's failure must not end the follower
        }
      }
      if (sawConnected) delay = this.#retryMs;
      await this.#sleep(delay);
      if (!sawConnected) delay = Math.min(delay * 2, maxRetryMs);
    }
  }

  /** One connection; resolves when it ends for any reason, true if the server said connected. */
  async #follow(run: number): Promise<boolean> {
    const abort = new AbortController();
    this.#abort = abort;
    let watchdog = setTimeout(() => abort.abort(), this.#watchdogMs);
    let settle: NodeJS.Timeout | undefined;
    let sawConnected = false;
    try {
      const target = this.#getTarget();
      if (!target) return false;
      // One attempt per call: this loop, not the SDK, owns reconnection.
      const { stream } = await ocClient(target).global.event({
        signal: abort.signal,
        sseMaxRetryAttempts: 1,
        onSseError: () => undefined,
      });
      for await (const frame of stream) {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => abort.abort(), this.#watchdogMs);
        if (this.#run !== run) break;
        const type = frame?.payload?.type;
        if (typeof type !== "string") continue;
        if (type === "sync" || (type as string) === "server.heartbeat") continue;
        if (type === "server.connected") {
          sawConnected = true;
          settle = setTimeout(() => this.#announce(run, abort), settleMs);
          continue;
        }
        this.emit("event", frame as GlobalEvent);
      }
    } catch {
      // a failed attempt, getTarget or a listener that threw: all end this connection
    } finally {
      clearTimeout(watchdog);
      clearTimeout(settle);
      abort.abort();
    }
    return sawConnected;
  }

  #announce(run: number, abort: AbortController) {
    if (this.#run !== run || abort.signal.aborted) return;
    this.#connected = true;
    try {
      this.emit("connected");
    } catch {
      abort.abort();
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
