/** Placeholder: filled by the work that owns this screen. */
export default function Schedules() {
  return <div class="screen-placeholder" />;
}
