import { EventEmitter } from "node:events";
import type { GlobalEvent as SdkGlobalEvent } from "@opencode-ai/sdk/v2/client";
import { ocClient } from "./client.ts";

/** A `/global/event` frame. `directory` is absent on server.connected / server.heartbeat and "global" for global events. */
export type GlobalEvent = Omit<SdkGlobalEvent, "directory" | "payload"> & {
  directory?: string;
  payload: Exclude<SdkGlobalEvent["payload"], { type: "sync" }>;
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

/**
 * Follows opencode's `/global/event` forever (until stop): reconnects with backoff, aborts a stream that
 * sends nothing (heartbeats included) for watchdogMs, drops `sync` mirrors and heartbeats, and emits
 * 'connected' on every `server.connected` so the owner can re-sync (the stream has no replay).
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
        this.emit("disconnected");
      }
      if (sawConnected) delay = this.#retryMs;
      await this.#sleep(delay);
      if (!sawConnected) delay = Math.min(delay * 2, maxRetryMs);
    }
  }

  /** One connection; resolves when it ends for any reason, true if the server said connected. */
  async #follow(run: number): Promise<boolean> {
    const target = this.#getTarget();
    if (!target) return false;
    const abort = new AbortController();
    this.#abort = abort;
    let watchdog = setTimeout(() => abort.abort(), this.#watchdogMs);
    let sawConnected = false;
    try {
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
          this.#connected = true;
          this.emit("connected");
        }
        this.emit("event", frame as GlobalEvent);
      }
    } catch {
      // a failed attempt, or a listener that threw: both end this connection
    } finally {
      clearTimeout(watchdog);
      abort.abort();
    }
    return sawConnected;
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
