import { headerText, send, type Answer, type Outgoing } from "./http.ts";

/**
 * One intruder request. Accepted = a 2xx/3xx answer, except for a documented public route; for a
 * `leakCheck` request (the intruder's own data, rightly 2xx) accepted = it carries a victim marker.
 * Any answer carrying a victim marker the intruder did not send is accepted too.
 */
export type Attempt = Outgoing & {
  phase: string;
  label: string;
  /** The status the guard must answer (a different refusal is reported, not counted as accepted). */
  expect?: number | number[];
  leakCheck?: boolean;
  public?: boolean;
};

const decoded = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export type Finding = { phase: string; label: string; detail: string };

/** Every attempt and every answer: counts, what got through, and all text for the secret scan. */
export class Ledger {
  attempts = 0;
  readonly accepted: Finding[] = [];
  readonly wrongStatus: Finding[] = [];
  /** Answers to intruders and to the legit calls around them, scanned for secrets at the end. */
  readonly answers: Array<{ where: string; text: string }> = [];

  constructor(private readonly victimMarkers: () => string[]) {}

  async try(a: Attempt): Promise<Answer> {
    const res = await send(a);
    this.attempts++;
    this.keep(`${a.phase}: ${a.method} ${a.url}`, res);
    const where = { phase: a.phase, label: a.label };
    // A marker the intruder sent itself (an id in the URL) is echoed in error messages: not a leak.
    const asked = `${a.url}\n${decoded(a.url)}\n${JSON.stringify(a.headers ?? {})}\n${a.body ?? ""}`;
    const answered = `${headerText(res.headers)}\n${res.text}`;
    const leaked = this.victimMarkers().find((m) => !asked.includes(m) && !asked.includes(encodeURIComponent(m)) && answered.includes(m));
    const passed = res.status >= 200 && res.status < 400;
    if (a.leakCheck ? leaked !== undefined : passed && !a.public) {
      this.accepted.push({ ...where, detail: `${a.method} ${a.url} → ${res.status}${leaked ? ` carrying ${leaked}` : ""}: ${res.text.slice(0, 300)}` });
    } else if (leaked !== undefined && !a.leakCheck) {
      this.accepted.push({ ...where, detail: `${a.method} ${a.url} → ${res.status} carrying ${leaked}: ${res.text.slice(0, 300)}` });
    }
    const expected = a.expect === undefined ? undefined : [a.expect].flat();
    if (expected && !expected.includes(res.status)) {
      this.wrongStatus.push({ ...where, detail: `${a.method} ${a.url} → ${res.status}, expected ${expected.join(" or ")}: ${res.text.slice(0, 300)}` });
    }
    return res;
  }

  /** A legit answer (setup, positive controls): not counted, but scanned for secrets. */
  keep(where: string, res: Answer) {
    this.answers.push({ where, text: `${res.status}\n${headerText(res.headers)}\n\n${res.text}` });
  }

  /** A finding from outside a single answer (a state change, two answers told apart). */
  flag(phase: string, label: string, detail: string) {
    this.accepted.push({ phase, label, detail });
  }

  of(phase: string) {
    return {
      accepted: this.accepted.filter((f) => f.phase === phase).map((f) => `${f.label}: ${f.detail}`),
      wrongStatus: this.wrongStatus.filter((f) => f.phase === phase).map((f) => `${f.label}: ${f.detail}`),
    };
  }

  summary(): string {
    return `intruders: ${this.attempts} attempts, ${this.accepted.length} accepted`;
  }
}
