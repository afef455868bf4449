/** Placeholder: filled by the work that owns this screen. */
export default function Share() {
  return <div class="screen-placeholder" />;
}
