import type { ParentProps } from "solid-js";

export function Shell(props: ParentProps) {
  return <main>{props.children}</main>;
}
