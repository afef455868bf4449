import { For, Show } from "solid-js";
import type { Attachments } from "../lib/attachments.ts";
import "./phone-inputs.css";

export interface AttachButtonProps {
  /** The images picked (raw files; `createAttachments().add` shrinks and checks them). */
  onFiles: (files: File[]) => void;
  /** "environment" opens the camera straight away; unset, phones offer camera and gallery both. */
  capture?: "environment" | "user";
  disabled?: boolean;
}

/** A 44 px button over a hidden image picker (several at once). */
export function AttachButton(props: AttachButtonProps) {
  let input: HTMLInputElement | undefined;
  return (
    <>
      <input
        ref={input}
        type="file"
        accept="image/*"
        multiple
        capture={props.capture}
        class="attach-input"
        tabindex={-1}
        aria-hidden="true"
        onChange={(e) => {
          const files = Array.from(e.currentTarget.files ?? []);
          e.currentTarget.value = ""; // picking the same photo again must fire change again
          if (files.length) props.onFiles(files);
        }}
      />
      <button type="button" class="attach" disabled={props.disabled} aria-label="Attach image" title="Attach image" onClick={() => input?.click()}>
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
          <rect x="3" y="5" width="18" height="15" rx="2" />
          <circle cx="9" cy="10.5" r="1.8" />
          <path d="M21 16l-5-5-9 9" />
        </svg>
      </button>
    </>
  );
}

/** The attached images as thumbnails, each with a remove button; a line while some are still being read. */
export function AttachmentStrip(props: { attachments: Attachments }) {
  const a = () => props.attachments;
  return (
    <Show when={a().items().length > 0 || a().busy()}>
      <ul class="attach-strip" aria-label="Attached images">
        <For each={a().items()}>
          {(file, i) => (
            <li class="thumb">
              <img src={file.url} alt={file.filename ?? "attached image"} />
              <button type="button" class="thumb-remove" aria-label={`Remove ${file.filename ?? "image"}`} onClick={() => a().remove(i())}>
                <span aria-hidden="true">×</span>
              </button>
            </li>
          )}
        </For>
        <Show when={a().busy()}>
          <li class="thumb thumb-busy" role="status" aria-label="Reading image…" />
        </Show>
      </ul>
    </Show>
  );
}
