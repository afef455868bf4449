/** Placeholder: filled by the work that owns this screen. */
export default function AttemptGroup() {
  return <div class="screen-placeholder" />;
}
