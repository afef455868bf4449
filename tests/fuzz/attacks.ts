import os from "node:os";
import path from "node:path";

/**
 * Where a successful injection would leave a trace: every attack that could run a command or write a
 * file names this path (or a file under it). The suites look for it after the run.
 */
export const CANARY_NAME = `ocweb-fuzz-canary-${process.pid}`;
export const CANARY = path.join(os.tmpdir(), CANARY_NAME);

const traversal = [
  "..", "../..", "../../../../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e", "%2e%2e%2f%2e%2e", "%252e%252e%252f",
  "..\\..\\..\\windows\\win.ini", "/etc/passwd", "/proc/self/environ", "./", "././.", "a/../../b", "....//....//", "..;/",
  `../../../../..${CANARY}`, CANARY, `${CANARY}/x`, "~", "~root/.ssh", "/", "//", "a//b",
];

const optionInjection = [
  `--upload-pack=touch ${CANARY}`, `--upload-pack=touch ${CANARY}-up`, `--receive-pack=touch ${CANARY}`,
  `-c core.sshCommand=touch ${CANARY}`, `--config=core.fsmonitor=touch ${CANARY}`, `--output=${CANARY}`,
  `--exec=touch ${CANARY}`, `--git-dir=${CANARY}`, "--work-tree=/", `-oProxyCommand=touch ${CANARY}`,
  `ext::sh -c touch% ${CANARY}`, "-", "--", "--help", "-h", "--version", "-rf", "--orphan",
];

const shell = [`$(touch ${CANARY})`, `\`touch ${CANARY}\``, `; touch ${CANARY}`, `| touch ${CANARY}`, `&& touch ${CANARY}`, `\ntouch ${CANARY}`];

const control = ["\u0000", "a\u0000b", "main\u0000--upload-pack=x", "acme\u0000/app", "\r\n", "a\r\nx-injected: 1", "\t", "\u001b[31m", "\u007f", "\b", "\u0085", "\u2028"];

const unicode = [
  "🚀", "👩‍💻", "ﬁ", "Ａｃｍｅ／ａｐｐ", "аcme/app", "acme\u2215app", "acme\u2044app", "\u202Egnp.exe", "e\u0301", "\uFEFFacme/app",
  "\u200B", "ｍａｉｎ", "\uD83D", "\uDC00x", "𝕒𝕔𝕞𝕖/𝕒𝕡𝕡", "İstanbul", "straße", "ǅ", "\u0000\uFFFF", "\uFFFE", "中文/仓库", "العربية",
];

const refTricks = ["HEAD", "HEAD~1", "@{-1}", "main^{tree}", "refs/heads/main", "main.lock", "main/", "/main", "a..b", "main:README.md", "FETCH_HEAD", "@", ":(exclude)*", "*", "?"];

const urls = [
  "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "https://user:pass@evil.example/", "javascript:alert(1)", "data:text/html,<script>",
  "//evil.example", "https://127.0.0.1:1/", "https://[::1]/", "https://evil.example/%00", "https://", "http://localhost:8790/mgmt/gc", "data:", "data:,", "ftp://x/y",
];

const misc = [
  "", " ", "   \n\t ", "%s%s%s%n", "' OR '1'='1", "'; DROP TABLE chats;--", "__proto__", "constructor", "prototype", "{}", "[]", "null", "undefined",
  "NaN", "Infinity", "-1", "0", "1e309", "9007199254740993", "true", "<script>alert(1)</script>", "${jndi:ldap://x}", "{{7*7}}",
  "* * * * * *", "0 0 31 2 *", "@reboot", "*/0 * * * *", "60 * * * *", "* * * *", "0 0 L * *", "1-0 * * * *",
];

/** Fixed attack strings: traversal, option and shell injection, NUL and control bytes, unicode tricks, ref and URL tricks. */
export const ATTACKS: readonly string[] = [...traversal, ...optionInjection, ...shell, ...control, ...unicode, ...refTricks, ...urls, ...misc];

/** Longer than any field allows (names 100, refs 200, mime 100, filename 255, title 250, text 100,000). */
export const OVERLONG_LENGTHS = [101, 201, 256, 257, 2049, 100_001] as const;

